// The IPN's public face: its data shapes, the checksum, the wire body and the dispatcher that sends it.

export { FAULTS } from "./types.js";
export type { DeliveryOutcome, DeliveryRecord, Fault, IpnFields, IpnToValue } from "./types.js";

export { IPN_HASH_FIELDS_ORDER, ipnHashString, signIpn, verifyIpnHash } from "./sign.js";
export type { IpnHashField, IpnHashInput, IpnSignature } from "./sign.js";

export {
  DEFAULT_IPN_HASH_FIELD,
  IPN_FIELD_ORDER,
  IPN_TO_VALUE_KEYS,
  assertIpnHashField,
  decodeIpnBody,
  encodeIpnBody,
} from "./encode.js";

export {
  DEFAULT_IPN_TIMEOUT_MS,
  DEFAULT_MAX_SOCKETS_PER_ORIGIN,
  DEFAULT_USER_AGENT,
  IPN_BODY_EXCERPT_CHARS,
  IPN_BODY_READ_LIMIT_BYTES,
  MAX_IPN_TIMEOUT_MS,
  createDispatcher,
  createNodeTransport,
  describeNetworkError,
} from "./dispatcher.js";
export type {
  DispatchRequest,
  Dispatcher,
  DispatcherOptions,
  NodeTransport,
  Transport,
  TransportRequest,
  TransportResponse,
} from "./dispatcher.js";
