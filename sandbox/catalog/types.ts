// The shape of the route catalogue: currencies, routes and the field definitions merchants fill in.

/** The payment network a currency lives on; decides its address format and deposit address. */
export type Network =
  | "bitcoin"
  | "ethereum"
  | "tron"
  | "litecoin"
  | "monero"
  | "webmoney"
  | "card";

export interface Currency {
  /** 24-hex ObjectId. */
  _id: string;
  /** Human name, e.g. "Ethereum", "Visa/Mastercard UAH". */
  name: string;
  /** Ticker shown to the client, e.g. "ETH", "UAH". */
  symbol: string;
  /** The rate-monitor code used in IPNs (`xml_from`/`xml_to`), e.g. "ETH", "USDTTRC20", "CARDUAH". */
  xml: string;
  /** Decimal places amounts in this currency are rounded to. */
  decimal: number;
  network: Network;
}

export interface RouteField {
  /** 24-hex ObjectId; this is the `key` a merchant sends in fromValues/toValues/routeValues. */
  _id: string;
  name: string;
  placeholder: string;
  /** A JavaScript regular expression source (no slashes), anchored with ^…$. */
  regexp: string;
  /** Shown to the client when the value does not match. */
  regexp_error: string;
  required: boolean;
}

export interface Route {
  /** 24-hex ObjectId: the `routeId` of order/create. */
  _id: string;
  from: Currency;
  to: Currency;
  /** Decimal string: units of `to` paid out per 1 unit of `from`. */
  rate: string;
  /** Decimal strings in `from` units: the accepted order amounts, inclusive. */
  min: string;
  max: string;
  /** Decimal string in `to` units: the most this route can pay out. */
  reserve: string;
  /** True when the client pays by hand and confirms with "I paid" (cards, WebMoney). */
  manual: boolean;
  /** Minutes an order may stay in waitPayment before it expires. */
  paymentWindowMinutes: number;
  /** The sender's requisites (fromValues). */
  fromFields: RouteField[];
  /** The recipient's requisites (toValues): wallet address, card number… */
  toFields: RouteField[];
  /** Route-level fields (routeValues): email, name… */
  routeFields: RouteField[];
}

export interface Catalog {
  routes: Route[];
}
