// The IPN's schemas for the OpenAPI description: the form the webhook posts, its checksum, faults and delivery records.

import { SAMPLE_IPN } from "../control/index.js";
import {
  DEFAULT_IPN_HASH_FIELD,
  DEFAULT_IPN_TIMEOUT_MS,
  encodeIpnBody,
  FAULT_DESCRIPTIONS,
  FAULT_TABLE,
  FAULTS,
  IPN_BODY_EXCERPT_CHARS,
  IPN_FIELD_ORDER,
  IPN_HASH_FIELDS_ORDER,
  ipnHashString,
  signIpn,
  type DeliveryRecord,
  type IpnFields,
  type IpnToValue,
  type ParamSpec,
} from "../ipn/index.js";
import { DECIMAL } from "../orders/amount.js";
import { OBJECT_ID } from "../orders/ids.js";
import { DELIVERY_OUTCOMES } from "../store/index.js";
import { array, integer, markdownTable, matching, nullable, number, object, ref, string, type PropsOf, type Schema } from "./schema.js";

/** The docs' own example IPN, whose checksum they give: the description's worked example. */
export const DOCS_EXAMPLE_IPN: IpnFields = { ...SAMPLE_IPN, newStatus: "inProgress", timestamp: "1571328406072" };
export const DOCS_EXAMPLE_SECRET = "SECRET123";

const SHA256_HEX = /^[0-9a-f]{64}$/;
const DIGITS = /^\d+$/;

const ipnFieldProps: PropsOf<IpnFields> = {
  orderUID: matching(DIGITS, { description: "The order's uid (a number, sent as its digits)." }),
  orderId: matching(OBJECT_ID, { description: "The order's `_id`: key your records on it." }),
  newStatus: ref("OrderStatus", "The order's status now."),
  inAmount: matching(DECIMAL, { description: "What the client sends, as shown to the client." }),
  outAmount: matching(DECIMAL, { description: "What the client gets, as shown to the client." }),
  xml_from: string({ description: "The `from` currency's xml code, e.g. ETH." }),
  xml_to: string({ description: "The `to` currency's xml code, e.g. WMZ." }),
  timestamp: matching(DIGITS, { description: "Unix time in **milliseconds** on the sandbox clock; strictly increases from one IPN of an order to the next." }),
  toValues: array(ref("IpnToValue"), {
    description: "The recipient's requisites, bracket-encoded on the wire: `toValues[0][key]=…&toValues[0][name]=…&toValues[0][value]=…` (unmasked, even with `hideOutData`).",
  }),
};

/** The checksum recipe, from the field order the signer uses. */
export const CHECKSUM_RECIPE = `sha256(${[...IPN_HASH_FIELDS_ORDER, "ipnSecret"].join(":")})`;

/** What the webhook's description says about the checksum, with the docs' golden vector worked through the signer. */
export function checksumDescription(hashField: string): string {
  const hashed = ipnHashString(DOCS_EXAMPLE_IPN, DOCS_EXAMPLE_SECRET);
  const { hash } = signIpn(DOCS_EXAMPLE_IPN, DOCS_EXAMPLE_SECRET);
  return [
    `The checksum, in the field \`${hashField}\` (the docs do not name it: the sandbox calls it \`${DEFAULT_IPN_HASH_FIELD}\` unless started with \`--ipn-hash-field\`), is`,
    `\`${CHECKSUM_RECIPE}\` in lower-case hex: the fields joined with \`:\` exactly as they were sent (after form-decoding), then the order's \`ipnSecret\`.`,
    `The docs' example: \`${hashed}\` → \`${hash}\`. Compare in constant time, and act on an IPN only when it matches.`,
  ].join(" ");
}

/** The form body of the IPN, decoded: the fields and the checksum under `hashField`. */
export function ipnBodySchema(hashField: string): Schema {
  const schema = object<IpnFields & Record<string, unknown>>(
    { ...ipnFieldProps, [hashField]: matching(SHA256_HEX, { description: `The checksum: ${CHECKSUM_RECIPE}, lower-case hex.` }) },
    { description: `The IPN's form fields, in the order ${IPN_FIELD_ORDER.join(", ")}, then \`${hashField}\`. ${checksumDescription(hashField)}` },
  );
  return { ...schema, examples: [exampleForm(hashField)] };
}

/** The docs' example IPN as its decoded form. */
function exampleForm(hashField: string): Record<string, unknown> {
  return { ...DOCS_EXAMPLE_IPN, [hashField]: signIpn(DOCS_EXAMPLE_IPN, DOCS_EXAMPLE_SECRET).hash };
}

/** The docs' example IPN exactly as it goes on the wire. */
export function exampleIpnBody(hashField: string): string {
  return encodeIpnBody(DOCS_EXAMPLE_IPN, hashField, signIpn(DOCS_EXAMPLE_IPN, DOCS_EXAMPLE_SECRET).hash);
}

/** The JSON Schema of one fault parameter. */
function paramSchema(spec: ParamSpec): Schema {
  return spec.kind === "whole" ? integer({ minimum: spec.min, maximum: spec.max, default: spec.default }) : { enum: [...spec.choices], default: spec.default };
}

/** A fault as a bare name or `{type, ...params}`, every form of every fault of the fault table. */
function faultSpec(): Schema {
  const objects = FAULTS.map((fault) => {
    const params: Record<string, ParamSpec> = FAULT_TABLE[fault].params;
    return {
      type: "object",
      title: fault,
      description: FAULT_DESCRIPTIONS[fault],
      properties: { type: { const: fault }, ...Object.fromEntries(Object.entries(params).map(([name, spec]) => [name, paramSchema(spec)])) },
      required: ["type"],
      additionalProperties: false,
    };
  });
  return {
    description: "A delivery fault: a name (its parameters at their defaults) or `{type, ...parameters}`.",
    oneOf: [ref("Fault"), ...objects],
  };
}

const faultTable = markdownTable(
  ["fault", "what the merchant gets"],
  FAULTS.map((fault) => [`\`${fault}\``, FAULT_DESCRIPTIONS[fault]]),
);

const delivery = object<DeliveryRecord>(
  {
    id: matching(/^d\d+$/, { description: "`d` and a running number." }),
    orderUID: nullable(integer({ minimum: 1, description: "null for a test IPN that names no order." })),
    status: ref("OrderStatus", "The IPN's `newStatus`."),
    url: string({ description: "Where it was sent; in listings and events, credentials in it are masked." }),
    body: string({ description: "The exact form-urlencoded body sent (or that would have been)." }),
    fields: ref("IpnFields", "The fields the body carries, decoded."),
    hashField: string({ description: "The checksum field's name." }),
    hash: nullable(string({ description: "The checksum sent; null when none a merchant could read was sent." })),
    hashedString: nullable(string({ description: "The string that was hashed, the secret masked; null without a checksum." })),
    fault: ref("Fault", "The fault applied to this IPN (`deliver` when none)."),
    faultDetail: nullable(string({ description: "What the fault did to this copy." })),
    outcome: { type: "string", enum: [...DELIVERY_OUTCOMES], description: "`pending` (queued or in flight), `held` (a timing fault holds it), `accepted` (2xx), `rejected` (any other status), `timeout`, `error` (no connection) or `dropped` (on purpose)." },
    dueAt: nullable(integer({ description: "When a held copy is due, Unix ms on the sandbox clock." })),
    group: matching(/^d\d+$/, { description: "The id of the first record of the same IPN: copies group together." }),
    sentAt: nullable(integer({ description: "When it went on the wire (Unix ms); null while held or queued." })),
    response: nullable(
      object<NonNullable<DeliveryRecord["response"]>>({
        status: integer({ description: "The merchant's HTTP status." }),
        bodyExcerpt: string({ maxLength: IPN_BODY_EXCERPT_CHARS, description: "The start of the merchant's answer." }),
      }),
    ),
    latencyMs: nullable(number({ minimum: 0 })),
    error: nullable(string({ description: "Why it was not answered: timeout, connection refused…" })),
    resendOf: nullable(matching(/^d\d+$/, { description: "The record this one resends (a sandbox convenience: the real service never resends)." })),
  },
  { description: "One IPN the sandbox sent, or deliberately did not send." },
);

/** The IPN's schemas, for `components.schemas`. */
export function ipnSchemas(hashField: string): Record<string, Schema> {
  return {
    IpnToValue: object<IpnToValue>({
      key: string({ description: "The route field's `_id`." }),
      name: string({ description: "The route field's name." }),
      value: string(),
    }),
    IpnFields: object<IpnFields>(ipnFieldProps, { description: "What an IPN carries but the checksum." }),
    IpnBody: ipnBodySchema(hashField),
    Fault: { type: "string", enum: [...FAULTS], description: `What the dispatcher does to an IPN's delivery (the real service only ever sends once):\n\n${faultTable}` },
    FaultSpec: faultSpec(),
    Delivery: delivery,
  };
}

/** How long the sandbox waits for a merchant's answer unless told otherwise. */
export const IPN_TIMEOUT_TEXT = `${DEFAULT_IPN_TIMEOUT_MS / 1000} s`;
