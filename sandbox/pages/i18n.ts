// Every string the payment and order pages show, in English and Russian, and the formats they use for times.

import type { OrderStatus } from "../orders/statuses.js";

export const PAGE_LANGS = ["en", "ru"] as const;
export type PageLang = (typeof PAGE_LANGS)[number];

export function isPageLang(value: string): value is PageLang {
  return (PAGE_LANGS as readonly string[]).includes(value);
}

/** One language's strings. A missing key is a type error, so both languages always cover the whole UI. */
export interface Dictionary {
  /** The `lang` attribute of the page and the name of the language in the language switch. */
  langName: string;
  sandboxNote: string;
  paymentTitle(uid: number): string;
  orderTitle(uid: number): string;
  status: string;
  statuses: Record<OrderStatus, string>;
  sendExactly: string;
  toAddress: string;
  copy: string;
  copied: string;
  qrLabel: string;
  timeLeft: string;
  until(time: string): string;
  expired: string;
  manualHint: string;
  iPaid: string;
  youSend: string;
  youReceive: string;
  exchange: string;
  rate: string;
  created: string;
  senderDetails: string;
  recipientDetails: string;
  contactDetails: string;
  hiddenByMerchant: string;
  history: string;
  returnToSite: string;
  orderPageLink: string;
  paymentPageLink: string;
  language: string;
  notFoundTitle: string;
  notFoundText: string;
}

const en: Dictionary = {
  langName: "English",
  sandboxNote: "Sandbox: no real money moves here.",
  paymentTitle: (uid) => `Payment for order #${uid}`,
  orderTitle: (uid) => `Order #${uid}`,
  status: "Status",
  statuses: {
    new: "New",
    waitPayment: "Waiting for payment",
    errorPayment: "Payment error",
    inProgress: "In progress",
    inProgressPayout: "Paying out",
    errorPayout: "Payout error",
    hold: "On hold",
    done: "Completed",
    returned: "Refunded",
    deleted: "Cancelled",
  },
  sendExactly: "Send exactly",
  toAddress: "To this address",
  copy: "Copy",
  copied: "Copied",
  qrLabel: "QR code of the deposit address",
  timeLeft: "Time left",
  until: (time) => `until ${time}`,
  expired: "Time is up",
  manualHint: "Once you have sent the payment, let us know:",
  iPaid: "I paid",
  youSend: "You send",
  youReceive: "You receive",
  exchange: "Exchange",
  rate: "Rate",
  created: "Created",
  senderDetails: "Your details",
  recipientDetails: "Recipient's details",
  contactDetails: "Contact details",
  hiddenByMerchant: "hidden at the merchant's request",
  history: "History",
  returnToSite: "Return to site",
  orderPageLink: "Order details",
  paymentPageLink: "Payment details",
  language: "Language",
  notFoundTitle: "Order not found",
  notFoundText: "Check the link: the order number or its secret code is wrong.",
};

const ru: Dictionary = {
  langName: "Русский",
  sandboxNote: "Песочница: реальные деньги здесь не переводятся.",
  paymentTitle: (uid) => `Оплата заявки №${uid}`,
  orderTitle: (uid) => `Заявка №${uid}`,
  status: "Статус",
  statuses: {
    new: "Новая",
    waitPayment: "Ожидает оплаты",
    errorPayment: "Ошибка оплаты",
    inProgress: "В обработке",
    inProgressPayout: "Выплачивается",
    errorPayout: "Ошибка выплаты",
    hold: "Заморожена",
    done: "Выполнена",
    returned: "Возвращена",
    deleted: "Отменена",
  },
  sendExactly: "Отправьте ровно",
  toAddress: "На этот адрес",
  copy: "Копировать",
  copied: "Скопировано",
  qrLabel: "QR-код адреса для оплаты",
  timeLeft: "Осталось времени",
  until: (time) => `до ${time}`,
  expired: "Время вышло",
  manualHint: "Когда отправите платёж, сообщите нам:",
  iPaid: "Я оплатил",
  youSend: "Вы отправляете",
  youReceive: "Вы получите",
  exchange: "Обмен",
  rate: "Курс",
  created: "Создана",
  senderDetails: "Ваши реквизиты",
  recipientDetails: "Реквизиты получателя",
  contactDetails: "Контактные данные",
  hiddenByMerchant: "скрыты по просьбе магазина",
  history: "История",
  returnToSite: "Вернуться на сайт",
  orderPageLink: "Подробности заявки",
  paymentPageLink: "Данные для оплаты",
  language: "Язык",
  notFoundTitle: "Заявка не найдена",
  notFoundText: "Проверьте ссылку: номер заявки или её секретный код неверны.",
};

export const DICTIONARIES: Record<PageLang, Dictionary> = { en, ru };

/** A sandbox-clock time as the pages show it, the same in every language: "2019-10-17 16:06:46 UTC". */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** Time left as "m:ss", or "h:mm:ss" from an hour up; never negative. */
export function formatTimeLeft(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}
