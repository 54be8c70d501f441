// exchanger-sandbox's public API: create a sandbox in-process, and the protocol facts merchants' tests need.

export { createSandbox, DEFAULT_PORT, DEFAULT_SEED, type Sandbox, type SandboxOptions, type SandboxExtension, type SandboxParts } from "./create-sandbox.js";
export { drawSeed, catalogSeedFor, DEFAULT_CATALOG_SEED, MAX_CATALOG_SEED } from "./seed.js";
export { API_BASE_PATH } from "./api/index.js";
export { CONTROL_BASE_PATH } from "./control/index.js";
export { buildOpenApi, OPENAPI_PATH, type OpenApiDocument, type OpenApiOptions } from "./openapi/index.js";
export { assertAdminToken } from "./control/admin-auth.js";
export { canonicalIpnHost, isLoopbackHost } from "./secure.js";
export { TEST_CREDENTIALS, requestHash, type ApiCredentials } from "./api/auth.js";
export { ERROR_CODES, ERROR_CODE_DOCS, ApiError, ControlError } from "./errors.js";
export { STATUSES, STATUS_DESCRIPTIONS, TRANSITIONS, MERCHANT_TRANSITIONS, isOrderStatus, isFinal, callbackOutcome, type OrderStatus } from "./orders/statuses.js";
export type { Order, OrderValue, HistoryEntry } from "./orders/types.js";
export { ipnFieldsFor, type IpnSource, MoveRefused, UNPAID_STATUSES, type OrderService, type OrderEvent, type MoveOptions } from "./orders/service.js";
export { exampleCreateParams, CREATE_PARAMS } from "./orders/create.js";
export {
  createDefaultCatalog,
  loadCatalogFile,
  parseCatalog,
  CatalogError,
  type Catalog,
  type Currency,
  type Route,
  type RouteField,
} from "./catalog/index.js";
export {
  FAULTS,
  normalizeFault,
  signIpn,
  assertIpnHashField,
  DEFAULT_IPN_TIMEOUT_MS,
  DEFAULT_IPN_HASH_FIELD,
  MAX_IPN_TIMEOUT_MS,
  IPN_HASH_FIELDS_ORDER,
  verifyIpnHash,
  ipnHashString,
  encodeIpnBody,
  decodeIpnBody,
  diagnoseIpnHash,
  IpnBodyError,
  IPN_HASH_MISTAKES,
  IPN_HASH_MISTAKE_DESCRIPTIONS,
  type DiagnosedMistake,
  type IpnHashDiagnosis,
  type IpnHashDoctorInput,
  type IpnHashMistake,
  FAULT_DESCRIPTIONS,
  TAMPERABLE_FIELDS,
  type DeliveryRecord,
  type Fault,
  type FaultSpec,
  type IpnFields,
  type TamperableField,
} from "./ipn/index.js";
export { createClock, parseClockSpec, CLOCK_KINDS_HELP, type Clock, type ClockKind } from "./clock/index.js";
export { createLogger, LOG_FORMATS, maskSecret, type Logger, type LogFormat } from "./log/index.js";
/** Loads zod on first use (the sandbox's parts and scenarios validate with it; starting does not need it). */
export { withZod } from "./zod.js";
export {
  createMemoryStore,
  DataDirLockedError,
  JournalError,
  nodeJournalFs,
  StoreUnavailableError,
  type DeliveryQuery,
  type JournalFs,
  type JournalStoreOptions,
  type OrderQuery,
  type Page,
  type Store,
} from "./store/index.js";
export { VERSION } from "./version.js";
export { importOptional } from "./optional.js";
export {
  createControlClient,
  ControlClientError,
  CheckoutError,
  type CheckoutFailure,
  type CheckoutOptions,
  type CheckoutResult,
  isSettled,
  isNewOrderEvent,
  type ControlClient,
  type ControlClientOptions,
  type EventWatch,
  type ControlEvent,
  type ControlHealth,
  type ControlOrder,
  type ControlOrderDetail,
  type ControlOrderValue,
  type ControlClock,
  type CreatedOrder,
  type ScenarioPlay,
  type TestIpn,
} from "./client/index.js";
