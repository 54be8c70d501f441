// The IPN's public face: its data shapes, the checksum, the wire body and the dispatcher that sends it.

export { FAULTS, FAULT_DESCRIPTIONS, TAMPERABLE_FIELDS } from "./types.js";
export type { DeliveryOutcome, DeliveryRecord, Fault, FaultSpec, IpnFields, IpnToValue, TamperableField } from "./types.js";

export {
  BODY_FAULTS,
  FAULT_DEFAULTS,
  FAULT_PARAMETERS,
  MAX_DUPLICATE_COPIES,
  MAX_FAULT_MS,
  MIN_DUPLICATE_COPIES,
  applyFault,
  isBodyFault,
  normalizeFault,
  tamperedValue,
} from "./faults.js";
export type { BodyFault, IpnWire, NormalizeFaultResult, NormalizedFault } from "./faults.js";

export { IPN_HASH_FIELDS_ORDER, ipnHashString, signIpn, verifyIpnHash } from "./sign.js";
export type { IpnHashField, IpnHashInput, IpnSignature } from "./sign.js";

export { IPN_HASH_MISTAKES, IPN_HASH_MISTAKE_DESCRIPTIONS, IpnBodyError, diagnoseIpnHash } from "./doctor.js";
export type { DiagnosedMistake, IpnHashDiagnosis, IpnHashDoctorInput, IpnHashMistake } from "./doctor.js";

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
  Dispatched,
  Dispatcher,
  DispatcherOptions,
  NodeTransport,
  Transport,
  TransportRequest,
  TransportResponse,
} from "./dispatcher.js";
