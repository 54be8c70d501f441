// The merchant API's schemas for the OpenAPI description: parameters, the envelope, orders and routes.

import { API_METHODS, type ApiMethodName } from "../api/index.js";
import { AUTH_TIME_WINDOW_MS } from "../api/auth.js";
import { REQUEST_ID_SUFFIX, type failureBody, type successBody } from "../api/envelope.js";
import { DEFAULT_PARAM_LIMITS } from "../api/params.js";
import type { Currency, Route, RouteField } from "../catalog/types.js";
import type { CreatedOrder } from "../client/types.js";
import { ERROR_CODE_DOCS, ERROR_CODES, PARAM_ERRORS, type InvalidParamObject } from "../errors.js";
import { DECIMAL } from "../orders/amount.js";
import { BOOLEAN_WORDS, CREATE_TEXT_LIMITS, LANGS } from "../orders/create.js";
import { OBJECT_ID, ORDER_ID_FORMATS } from "../orders/ids.js";
import { STATUS_DESCRIPTIONS, STATUSES, TRANSITIONS } from "../orders/statuses.js";
import type { OrderValue } from "../orders/types.js";
import type { paymentView, PublicOrder } from "../orders/view.js";
import { array, boolean, characterClass, drawnFrom, integer, markdownTable, matching, nullable, object, ref, string, type PropsOf, type Schema } from "./schema.js";

/** The parameters a method reads, as API_METHODS lists them. */
type ParamsOf<M extends ApiMethodName> = Record<(typeof API_METHODS)[M]["params"][number], unknown>;

const timeParam = (): Schema => ({
  type: ["integer", "string"],
  description: `Unix time in milliseconds; needed with the \`apikey\`/\`hash\` authorization, within ${AUTH_TIME_WINDOW_MS / 60_000} minutes of the sandbox clock. Ignored on a public call.`,
});

/** An order's uid: a number in JSON, a string of digits from a form. */
const orderUid = (): Schema => ({ type: ["integer", "string"], minimum: 1, pattern: "^\\d{1,16}$", description: "The order's `uid` from order/create." });
const yes = (description: string): Schema => ({ enum: [...BOOLEAN_WORDS.yes], description });
const yesOrNo = (description: string): Schema => ({ enum: [...BOOLEAN_WORDS.yes, ...BOOLEAN_WORDS.no], description });
const url = (description: string): Schema => string({ format: "uri", pattern: "^https?://", maxLength: CREATE_TEXT_LIMITS.url, description });

const valueList = (list: string, fields: string): Schema =>
  array(
    object<{ key: unknown; value: unknown }>({
      key: ref("ObjectId", `The route field's \`_id\` (from \`${fields}\` of route/get).`),
      value: { type: ["string", "number"], maxLength: CREATE_TEXT_LIMITS.url, description: "The value; it must match the field's `regexp`." },
    }),
    {
      maxItems: DEFAULT_PARAM_LIMITS.maxIndex + 1,
      description:
        `The route's \`${fields}\`, one \`{key, value}\` each; every \`required\` field must be given. From a form: ` +
        `\`${list}[0][key]=…&${list}[0][value]=…\` (PHP-style brackets, indexes 0 to ${DEFAULT_PARAM_LIMITS.maxIndex}).`,
    },
  );

const createParams: PropsOf<ParamsOf<"public/exchanger/order/create">> = {
  routeId: ref("ObjectId", "The route's `_id` (route/get)."),
  partner: string({ maxLength: CREATE_TEXT_LIMITS.short, description: "The partner link." }),
  amount: {
    type: ["string", "number"],
    pattern: DECIMAL.source,
    exclusiveMinimum: 0,
    description: "How much of the route's `from` currency the client sends, between the route's `min` and `max`, with at most the currency's `decimal` places (more are refused, not rounded).",
  },
  fromValues: valueList("fromValues", "fromFields"),
  toValues: valueList("toValues", "toFields"),
  routeValues: valueList("routeValues", "routeFields"),
  lang: { enum: [...LANGS], default: LANGS[0], description: "The client's language for the pages." },
  agreement: yes("The client accepted the exchange rules: must be true (`true`, or `on`, `1`, `true` from a form)."),
  hideOutData: yesOrNo("Mask the recipient's requisites (`toValues`) on the pages and in public order/get."),
  clientCallbackUrl: url("Where the pages' \"return to site\" button sends the client, with `status=success` or `status=error` added."),
  ipnUrl: url("Where the IPN is POSTed on every status change (see the `ipn` webhook)."),
  ipnSecret: string({ minLength: 1, maxLength: CREATE_TEXT_LIMITS.short, description: "The secret the IPN's checksum is made with; required with `ipnUrl`." }),
  time: timeParam(),
};

const updateStatusParams: PropsOf<ParamsOf<"public/exchanger/order/update-status">> = {
  orderUID: orderUid(),
  orderSecret: string({ description: "The order's `secret` from order/create." }),
  status: ref("OrderStatus", "The status to move to: `inProgress` from `waitPayment` on a manual route (the client paid by hand), or `deleted` from `new` or `waitPayment`."),
  time: timeParam(),
};

const currency = (description: string): Schema =>
  object<Omit<Currency, "network">>(
    {
      _id: ref("ObjectId"),
      name: string({ examples: ["Ethereum"] }),
      symbol: string({ examples: ["ETH"] }),
      xml: string({ description: "The rate-monitor code, as `xml_from`/`xml_to` of the IPN.", examples: ["ETH", "USDTTRC20", "CARDUAH"] }),
      decimal: integer({ minimum: 0, description: "Decimal places amounts in this currency have." }),
    },
    { description },
  );

const routeProps: PropsOf<Omit<Route, "from" | "to">> & Record<"from" | "to", Schema> = {
  _id: ref("ObjectId", "The `routeId` of order/create."),
  from: ref("RouteCurrency", "What the client sends."),
  to: ref("RouteCurrency", "What the client gets."),
  rate: ref("DecimalString", "Units of `to` paid out per unit of `from`."),
  min: ref("DecimalString", "The smallest amount, in `from` units."),
  max: ref("DecimalString", "The largest amount, in `from` units."),
  reserve: ref("DecimalString", "The most the route can pay out, in `to` units."),
  manual: boolean({ description: "The client pays by hand and presses \"I paid\" (cards, WebMoney); only then may a merchant move `waitPayment → inProgress`." }),
  paymentWindowMinutes: integer({ minimum: 1, description: "How long an order may wait for payment before it expires (moves to `deleted`)." }),
  fromFields: array(ref("RouteField"), { description: "The sender's requisites: `fromValues`." }),
  toFields: array(ref("RouteField"), { description: "The recipient's requisites: `toValues`." }),
  routeFields: array(ref("RouteField"), { description: "Route-level fields such as an email: `routeValues`." }),
};

const routeField = object<RouteField>({
  _id: ref("ObjectId", "The `key` to send in the value list."),
  name: string(),
  placeholder: string({ description: "A valid example value." }),
  regexp: string({ description: "A JavaScript regular expression source (anchored, no flags) the value must match." }),
  regexp_error: string({ description: "What to tell a client whose value does not match." }),
  required: boolean(),
});

const orderValue = object<OrderValue>({
  field: ref("ObjectId", "The route field's `_id`: the `key` sent."),
  name: string({ description: "The route field's name." }),
  value: string({ description: "The value; with `hideOutData`, a `toValues` value is masked (`*` but the last four characters)." }),
  _id: ref("ObjectId"),
});

type OrderTimes = "iso" | "ms";

/** An order's properties as order/get shows them, times as ISO strings; the control API shows them in Unix ms. */
export function orderProperties(times: OrderTimes): PropsOf<PublicOrder> {
  const time = (what: string) =>
    times === "iso" ? string({ format: "date-time", description: what }) : integer({ description: `${what}, Unix ms on the sandbox clock.` });
  return {
    _id: ref("ObjectId", "The order's id: never repeats, unlike `uid` across sandboxes."),
    rid: matching(new RegExp(drawnFrom(ORDER_ID_FORMATS.rid.alphabet, ORDER_ID_FORMATS.rid.length))),
    uid: integer({ minimum: 1, description: "The order's number, shown to the client; with `secret`, it opens the order." }),
    partner: nullable(string()),
    inAmount: ref("DecimalString", "What the client sends, in the route's `from` currency."),
    outAmount: ref("DecimalString", "What the client gets: amount × rate, rounded down to the `to` currency's decimals."),
    fromValues: array(ref("OrderValue")),
    toValues: array(ref("OrderValue")),
    routeValues: array(ref("OrderValue")),
    status: ref("OrderStatus"),
    createdAt: time("When the order was created"),
    expiresAt: time("When an unpaid order expires"),
    clientCallbackUrl: nullable(string()),
    route: object<PublicOrder["route"]>({ routeId: ref("ObjectId"), from: ref("OrderCurrency"), to: ref("OrderCurrency") }),
    rate: ref("DecimalString", "The route's rate when the order was created."),
  };
}

const payment = object<ReturnType<typeof paymentView>>({
  address: string({ description: "Where the client sends the `from` currency (an address for its network, or an account)." }),
  amount: ref("DecimalString"),
  currency: ref("OrderCurrency"),
  manual: boolean({ description: "The client confirms by hand (\"I paid\")." }),
  expiresAt: string({ format: "date-time" }),
});

const createdOrder = object<CreatedOrder>({
  _id: ref("ObjectId"),
  uid: integer({ minimum: 1 }),
  rid: matching(new RegExp(drawnFrom(ORDER_ID_FORMATS.rid.alphabet, ORDER_ID_FORMATS.rid.length))),
  secret: matching(new RegExp(drawnFrom(ORDER_ID_FORMATS.secret.alphabet, ORDER_ID_FORMATS.secret.length)), {
    description: "The order's secret: with `uid` it reads and moves the order and opens its pages. Keep it.",
  }),
  route: object<CreatedOrder["route"]>({
    from: object<CreatedOrder["route"]["from"]>({ name: string(), symbol: string() }),
    to: object<CreatedOrder["route"]["to"]>({ name: string(), symbol: string() }),
  }),
  inAmount: ref("DecimalString"),
  outAmount: ref("DecimalString"),
});

/** The success envelope around `data`. */
function success(data: Schema, description: string): Schema {
  return object<ReturnType<typeof successBody>>(
    {
      success: { const: true },
      data,
      latency_ms: integer({ minimum: 0, description: "How long the call took on the server, in ms." }),
      requestId: ref("RequestId"),
    },
    { description },
  );
}

const errorCodes = Object.entries(ERROR_CODES) as [keyof typeof ERROR_CODES, number][];
const errorTable = markdownTable(
  ["errorCode", "name", "when"],
  errorCodes.map(([name, code]) => [String(code), name, ERROR_CODE_DOCS[name]]),
);

const failure = object<ReturnType<typeof failureBody>>(
  {
    success: { const: false },
    error: object<ReturnType<typeof failureBody>["error"] & { sandboxHint?: string }>(
      {
        apiError: { const: true },
        message: string({ description: "What went wrong, in the engine's words: for a validation error `Param <type> isn't valid: <nameField>`." }),
        errorType: { const: "api" },
        object: nullable({ type: "object", description: "Details: for a validation error, a ValidationErrorObject; for the others, what the sandbox knows (the uid, the limit, the header…)." }),
        level: { const: 0 },
        errorCode: ref("ErrorCode"),
        sandboxHint: string({ description: "How to fix the request, in the sandbox's words. The real service never sends it: show it to a person, do not depend on it." }),
      },
      { optional: ["sandboxHint"] },
    ),
    latency_ms: integer({ minimum: 0 }),
    requestId: ref("RequestId"),
  },
  { description: "A failure: HTTP 200 like a success, as the engine answers." },
);
// A validation error's `object` is the engine's four keys: say so where the error code says it is one.
failure.allOf = [
  {
    if: { type: "object", properties: { error: { type: "object", properties: { errorCode: { const: ERROR_CODES.validation } } } } },
    then: { type: "object", properties: { error: { type: "object", properties: { object: ref("ValidationErrorObject") } } } },
  },
];

const validationObject = object<Required<InvalidParamObject>>({
  err: { enum: [...PARAM_ERRORS], description: "What is wrong: `regexp` (the engine's), or the sandbox's finer reason." },
  fieldId: nullable(string({ description: "The route field's `_id` (the key sent) for a value-list error, else null." })),
  nameField: string({ description: "The route field's name for a value-list error, else the parameter's name." }),
  type: string({ description: "The value list (`fromValues`, `toValues`, `routeValues`) for a field's error, else the parameter's name." }),
});

const statusTable = markdownTable(
  ["status", "meaning", "may move to"],
  STATUSES.map((status) => [status, STATUS_DESCRIPTIONS[status], TRANSITIONS[status].join(", ") || "nothing: final"]),
);

/** The merchant API's schemas, for `components.schemas`. */
export function merchantSchemas(): Record<string, Schema> {
  const data = (name: string) => ref(name);
  return {
    ObjectId: matching(OBJECT_ID, { description: "A 24-digit lower-case hex ObjectId.", examples: ["5d8e6002b80b7b4cd75a6424"] }),
    DecimalString: matching(DECIMAL, { description: "A decimal number as a string; amounts never pass through binary floats.", examples: ["317.42"] }),
    RequestId: string({
      pattern: `^\\d+-[${characterClass(REQUEST_ID_SUFFIX.alphabet)}]{${REQUEST_ID_SUFFIX.length}}$`,
      description: "`<ms>-<random>`, as the engine's request ids look.",
    }),
    OrderStatus: { type: "string", enum: [...STATUSES], description: `The ten statuses of the merchant docs, and the moves the sandbox allows (the control API may force any):\n\n${statusTable}` },
    ErrorCode: {
      type: "integer",
      enum: errorCodes.map(([, code]) => code),
      "x-enum-varnames": errorCodes.map(([name]) => name),
      description: `What went wrong. The first two are the engine's own, the rest the sandbox's:\n\n${errorTable}`,
    },
    ApiFailure: failure,
    ValidationErrorObject: validationObject,
    CreateOrderParams: {
      ...object<ParamsOf<"public/exchanger/order/create">>(createParams, {
        optional: ["partner", "fromValues", "toValues", "routeValues", "lang", "hideOutData", "clientCallbackUrl", "ipnUrl", "ipnSecret", "time"],
        description: "order/create's parameters: a JSON body, or a form with PHP-style bracket keys. Unknown parameters are ignored (the sandbox logs them).",
      }),
      dependentRequired: { ipnUrl: ["ipnSecret"] },
    },
    UpdateStatusParams: object<ParamsOf<"public/exchanger/order/update-status">>(updateStatusParams, {
      optional: ["time"],
      description: "order/update-status's parameters: a JSON body or a form.",
    }),
    CreatedOrder: createdOrder,
    PublicOrder: object<PublicOrder & { payment?: unknown }>(
      { ...orderProperties("iso"), payment: ref("OrderPayment", "Only with `type=payment`: what the client must do to pay.") },
      { optional: ["payment"], description: "An order as order/get shows it." },
    ),
    OrderPayment: payment,
    OrderValue: orderValue,
    OrderCurrency: currency("A currency as an order shows it."),
    Route: object<Omit<Route, "from" | "to"> & Record<"from" | "to", unknown>>(routeProps, { description: "A route a merchant can create orders on." }),
    RouteCurrency: currency("A currency as a route shows it."),
    RouteField: routeField,
    CreateOrderSuccess: success(data("CreatedOrder"), "The order was created, in status `new`."),
    OrderGetSuccess: success(
      object<{ order: unknown; verifications: unknown }>({
        order: ref("PublicOrder"),
        verifications: array({ type: "object" }, { maxItems: 0, description: "KYC verifications: always empty in the sandbox." }),
      }),
      "The order.",
    ),
    UpdateStatusSuccess: success(
      object<{ ok: unknown; oldStatus: unknown; newStatus: unknown }>({ ok: { const: true }, oldStatus: ref("OrderStatus"), newStatus: ref("OrderStatus") }),
      "The order moved (and its IPN is on its way).",
    ),
    RouteListSuccess: success(array(ref("Route")), "The routes, filtered by currency when asked."),
    RouteSuccess: success(ref("Route"), "The route."),
  };
}
