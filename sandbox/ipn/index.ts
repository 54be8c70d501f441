// The IPN's public face: its data shapes, the faults, the checksum, the wire body and the dispatcher that sends it.

export type { DeliveryOutcome, DeliveryRecord, IpnFields, IpnToValue } from "./types.js";

export {
  FAULTS,
  FAULT_DESCRIPTIONS,
  FAULT_TABLE,
  MAX_FAULT_MS,
  TAMPERABLE_FIELDS,
  faultDefaults,
  faultsMarkdownTable,
  isBodyFault,
} from "./fault-table.js";
export type { BodyFault, Fault, FaultSpec, NormalizedFault, ParamSpec, PlanContext, TamperableField } from "./fault-table.js";
export { applyFault, normalizeFault, tamperedValue } from "./faults.js";
export type { IpnWire, NormalizeFaultResult } from "./faults.js";
export { stepsFor } from "./plan.js";
export type { Step } from "./plan.js";

export { IPN_HASH_FIELDS_ORDER, ipnHashString, signIpn, verifyIpnHash } from "./sign.js";
export type { IpnHashField, IpnHashInput, IpnSignature } from "./sign.js";

export { IPN_HASH_MISTAKES, IPN_HASH_MISTAKE_DESCRIPTIONS, IpnBodyError, diagnoseIpnHash } from "./doctor.js";
export type { DiagnosedMistake, IpnHashDiagnosis, IpnHashDoctorInput, IpnHashMistake } from "./doctor.js";

export {
  DEFAULT_IPN_HASH_FIELD,
  IPN_CONTENT_TYPE,
  IPN_FIELD_ORDER,
  IPN_TO_VALUE_KEYS,
  assertIpnHashField,
  decodeIpnBody,
  encodeIpnBody,
} from "./encode.js";

export { createDispatcher } from "./dispatcher.js";
export type { DispatchRequest, Dispatched, Dispatcher } from "./dispatcher.js";
export { DEFAULT_IPN_TIMEOUT_MS, DEFAULT_USER_AGENT, MAX_IPN_TIMEOUT_MS } from "./options.js";
export type { DispatcherOptions } from "./options.js";
export type { WallClock } from "./deadlines.js";
export { IPN_BODY_EXCERPT_CHARS, IPN_BODY_READ_LIMIT_BYTES } from "./transport.js";
export type { Sending, Transport, TransportRequest, TransportResponse } from "./transport.js";
export { DEFAULT_MAX_SOCKETS_PER_ORIGIN, createNodeTransport } from "./node-transport.js";
export type { NodeTransportOptions } from "./node-transport.js";
export { describeNetworkError } from "./network-errors.js";
