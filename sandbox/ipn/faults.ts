// IPN delivery faults, pure: reading a fault spec with its defaults, and building the wire body each fault sends.

import { encodeIpnBody } from "./encode.js";
import { FAULT_TABLE, FAULTS, TAMPERABLE_FIELDS, formatMs, type Fault, type NormalizedFault, type ParamSpec, type TamperableField } from "./fault-table.js";
import { signIpn } from "./sign.js";
import { copyFields, type IpnFields } from "./types.js";

/** The wrong secret `wrongSecret` signs with: derived from the real one, so the same IPN always gets the same hash. */
export const WRONG_SECRET_SUFFIX = "-wrong";

/** What `malformedBody` breaks the body with: a percent escape cut short, and a field with neither name nor value. */
export const BROKEN_PERCENT_ESCAPE = "%E0%A4%A";
export const DANGLING_EMPTY_FIELD = "&=&";

export type NormalizeFaultResult = { ok: true; fault: NormalizedFault } | { ok: false; message: string };

/**
 * Reads a fault as the control API and `dispatch` take it: a bare name ("delay") or `{type, ...params}`
 * (`{"type": "delay", "ms": 2000}`), with every missing parameter filled from the fault table's defaults. An unknown name, an
 * unknown parameter or a value out of range gets a message that says what is valid.
 */
export function normalizeFault(spec: unknown): NormalizeFaultResult {
  if (typeof spec === "string") return build(spec, {});
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    return refuse(`an IPN fault is a name or {"type": name, ...parameters}; got ${show(spec)}. Valid faults: ${FAULTS.join(", ")}`);
  }
  const { type, ...params } = spec as Record<string, unknown>;
  if (type === undefined) return refuse(`an IPN fault object needs "type", one of: ${FAULTS.join(", ")}`);
  if (typeof type !== "string") return refuse(unknownFault(type));
  return build(type, params);
}

function build(name: string, params: Record<string, unknown>): NormalizeFaultResult {
  if (!isFault(name)) return refuse(unknownFault(name));
  const specs: Record<string, ParamSpec> = FAULT_TABLE[name].params;
  const allowed = Object.keys(specs);
  const extra = Object.keys(params).find((key) => !allowed.includes(key));
  if (extra !== undefined) {
    return refuse(
      allowed.length === 0
        ? `IPN fault "${name}" takes no parameters; got ${JSON.stringify(extra)}`
        : `IPN fault "${name}" takes no parameter ${JSON.stringify(extra)}; it takes: ${allowed.join(", ")}`,
    );
  }
  const fault: Record<string, unknown> = { type: name };
  for (const [param, spec] of Object.entries(specs)) {
    const given = params[param];
    const value = given === undefined || (given === null && spec.kind === "choice") ? spec.default : given;
    if (spec.kind === "whole") {
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < spec.min || value > spec.max) {
        return refuse(`IPN fault "${name}": ${param} must be a whole number from ${spec.min} to ${spec.max}${spec.note}; got ${show(value)}`);
      }
    } else if (!spec.choices.includes(value as string)) {
      return refuse(`IPN fault "${name}": ${param} must be one of ${spec.choices.join(", ")}; got ${show(value)}`);
    }
    fault[param] = value;
  }
  return { ok: true, fault: fault as NormalizedFault };
}

/** What goes on the wire for one IPN, and what the fault did to it. */
export interface IpnWire {
  /** The exact form-urlencoded body to send. */
  body: string;
  /** The fields the body carries (for `malformedBody`, the fields it was made from). */
  fields: IpnFields;
  /** The checksum sent; null when the body carries none a merchant could read. */
  hash: string | null;
  /** The string that was hashed, secret masked; null when no checksum is sent. */
  hashedString: string | null;
  /** A short note for the transcript, e.g. "outAmount changed after signing: 317.42 → 3174.2"; null when untouched. */
  detail: string | null;
}

/**
 * Builds the body for `fields` signed with `secret`, altered as a body fault asks. Faults that change only when or
 * how often an IPN is sent (deliver, drop, dropOnce, delay, duplicate, reorder) get the clean body and detail null.
 * Deterministic: the same input always gives the same body.
 */
export function applyFault(fields: IpnFields, secret: string, hashField: string, fault: NormalizedFault): IpnWire {
  const signed = (sent: IpnFields, detail: string | null, key = secret): IpnWire => {
    const { hash, hashedString } = signIpn(sent, key);
    return { body: encodeIpnBody(sent, hashField, hash), fields: copyFields(sent), hash, hashedString, detail };
  };

  switch (fault.type) {
    case "deliver":
    case "drop":
    case "dropOnce":
    case "delay":
    case "duplicate":
    case "reorder":
      return signed(fields, null);
    case "tamperHash": {
      const clean = signIpn(fields, secret);
      const hash = flipLastHexDigit(clean.hash);
      return {
        body: encodeIpnBody(fields, hashField, hash),
        fields: copyFields(fields),
        hash,
        hashedString: clean.hashedString,
        detail: `hash altered after signing: last digit ${clean.hash.slice(-1)} → ${hash.slice(-1)}`,
      };
    }
    case "wrongSecret":
      // signIpn masks the wrong secret in hashedString just as it masks the real one.
      return signed(fields, "signed with a wrong secret, not the ipnSecret", secret + WRONG_SECRET_SUFFIX);
    case "tamperField": {
      const { hash, hashedString } = signIpn(fields, secret);
      const before = fields[fault.field];
      const after = tamperedValue(fields, fault.field);
      const sent = { ...copyFields(fields), [fault.field]: after };
      return {
        body: encodeIpnBody(sent, hashField, hash),
        fields: sent,
        hash,
        hashedString,
        detail: `${fault.field} changed after signing: ${before} → ${after}`,
      };
    }
    case "staleTimestamp": {
      const timestamp = String(readTimestamp(fields.timestamp, fault.type) - fault.ms);
      return signed({ ...fields, timestamp }, `timestamp ${formatMs(fault.ms)} old: ${timestamp} instead of ${fields.timestamp}`);
    }
    case "secondsTimestamp": {
      const timestamp = String(Math.floor(readTimestamp(fields.timestamp, fault.type) / 1000));
      return signed({ ...fields, timestamp }, `timestamp in seconds: ${timestamp}`);
    }
    case "missingHash":
      return {
        body: encodeIpnBody(fields, hashField, null),
        fields: copyFields(fields),
        hash: null,
        hashedString: null,
        detail: `no "${hashField}" field`,
      };
    case "malformedBody": {
      const clean = signed(fields, null);
      // A strict decoder fails on the cut escape; a lenient one reads a different orderId, so the hash fails too.
      const body =
        clean.body
          .split("&")
          .map((pair) => (pair.startsWith("orderId=") ? pair + BROKEN_PERCENT_ESCAPE : pair))
          .join("&") + DANGLING_EMPTY_FIELD;
      return {
        body,
        fields: clean.fields,
        hash: null,
        hashedString: null,
        detail: `not valid form encoding: a broken percent escape (${BROKEN_PERCENT_ESCAPE}) after orderId and an empty field (${DANGLING_EMPTY_FIELD})`,
      };
    }
    default: {
      const unreachable: never = fault;
      throw new Error(`unknown IPN fault ${show((unreachable as { type: unknown }).type)}; expected one of: ${FAULTS.join(", ")}`);
    }
  }
}

/** The value `tamperField` puts in place of the true one: always different, always plausible. */
export function tamperedValue(fields: IpnFields, field: TamperableField): string {
  const value = fields[field];
  switch (field) {
    case "inAmount":
    case "outAmount":
      return timesTen(value);
    case "newStatus":
      return value === "done" ? "inProgress" : "done";
    case "orderId":
      return anotherObjectId(value);
    case "xml_from":
    case "xml_to": {
      const other = field === "xml_from" ? fields.xml_to : fields.xml_from;
      return OTHER_XML_CODES.find((code) => code !== value && code !== other)!;
    }
    case "timestamp":
      return String(readTimestamp(value, "tamperField") + 1);
    default: {
      const unreachable: never = field;
      throw new Error(`tamperField: field must be one of ${TAMPERABLE_FIELDS.join(", ")}; got ${show(unreachable)}`);
    }
  }
}

const OTHER_XML_CODES = ["BTC", "ETH", "USDTTRC20"] as const;

/** A decimal string times ten, by moving the point: exact, no floats. "317.42" → "3174.2", "0" → "1". */
function timesTen(value: string): string {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (!match) return `${value}0`;
  const whole = match[1]!;
  const fraction = match[2] ?? "";
  const shiftedWhole = (whole + (fraction[0] ?? "0")).replace(/^0+(?=\d)/, "");
  const shiftedFraction = fraction.slice(1).replace(/0+$/, "");
  const result = shiftedFraction ? `${shiftedWhole}.${shiftedFraction}` : shiftedWhole;
  // Ten times zero is zero: a tampered amount must differ.
  return /^0(\.0*)?$/.test(result) ? "1" : result;
}

/** Another 24-hex-digit id: every hex digit replaced by its complement, so it always differs. */
function anotherObjectId(id: string): string {
  if (!/^[0-9a-fA-F]{24}$/.test(id)) return "0".repeat(24) === id ? "f".repeat(24) : "0".repeat(24);
  return [...id.toLowerCase()].map((digit) => (15 - parseInt(digit, 16)).toString(16)).join("");
}

function flipLastHexDigit(hash: string): string {
  const last = parseInt(hash.slice(-1), 16);
  return hash.slice(0, -1) + (last ^ 1).toString(16);
}

function readTimestamp(timestamp: string, fault: Fault): number {
  const value = Number(timestamp);
  if (timestamp.trim() === "" || !Number.isFinite(value)) {
    throw new Error(`IPN fault "${fault}" needs a numeric timestamp in milliseconds; got ${JSON.stringify(timestamp)}`);
  }
  return value;
}

function isFault(name: string): name is Fault {
  return (FAULTS as readonly string[]).includes(name);
}

function unknownFault(name: unknown): string {
  return `unknown IPN fault ${show(name)}; expected one of: ${FAULTS.join(", ")}`;
}

function refuse(message: string): NormalizeFaultResult {
  return { ok: false, message };
}

function show(value: unknown): string {
  if (value === undefined) return "undefined";
  try {
    const text = JSON.stringify(value) as string | undefined;
    if (text === undefined) return String(value);
    return text.length > 80 ? `${text.slice(0, 79)}…` : text;
  } catch {
    return String(value);
  }
}
