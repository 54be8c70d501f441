// The API's error codes and the two error classes: ApiError (the engine's envelope) and ControlError (HTTP status).

/**
 * Every errorCode the public API answers with. The first two are the engine's own; the rest are the sandbox's,
 * chosen in the engine's 16-digit style. The error table in docs/merchant-api.md is checked against this list.
 */
export const ERROR_CODES = {
  /** (engine) A parameter is missing or invalid; `object` names it. */
  validation: 6231546409213868,
  /** (engine) "Technical work": the service is under maintenance. */
  maintenance: 5555555555555555,
  /** (sandbox) No order with that uid and secret, or no route with that id. */
  notFound: 4040000000000001,
  /** (sandbox) The order cannot move from its status to the one asked for. */
  badTransition: 4090000000000001,
  /** (sandbox) The body could not be read: bad JSON, unsupported content type, forbidden or absurd keys. */
  malformedBody: 4000000000000001,
  /** (sandbox) The body is larger than the limit. */
  bodyTooLarge: 4130000000000001,
  /** (sandbox) The `apikey`/`hash` authorization failed. */
  unauthorized: 4010000000000001,
  /** (sandbox) No such API method. */
  unknownMethod: 4040000000000002,
} as const;

export type ErrorCodeName = keyof typeof ERROR_CODES;

/** When each code is answered: the error table of docs/merchant-api.md and of the OpenAPI description, word for word. */
export const ERROR_CODE_DOCS: Record<ErrorCodeName, string> = {
  validation: "a parameter is missing or invalid; `error.object` names it (engine), `error.sandboxHint` says how to fix it (sandbox)",
  maintenance: "technical work (engine); the sandbox sends it only while maintenance is switched on through the control API, or while its data folder cannot be written",
  notFound: "no order with that uid and secret, or no route with that id (sandbox)",
  badTransition: "the order cannot move from its current status to the one asked for (sandbox)",
  malformedBody:
    "the body could not be read: bad JSON, unsupported Content-Type, forbidden (`__proto__`, `constructor`, `prototype`) or absurd keys, too many fields or list items (sandbox)",
  bodyTooLarge: "the body is larger than 1 MiB (sandbox)",
  unauthorized: "the `apikey`/`hash` authorization failed (sandbox)",
  unknownMethod: "no such method, or the wrong HTTP verb for it (sandbox)",
};

/** An error the public API answers in the engine's envelope (always HTTP 200, `success: false`). */
export class ApiError extends Error {
  readonly code: ErrorCodeName;
  readonly object: Record<string, unknown> | null;
  /** The sandbox's own advice on a validation error, sent as `error.sandboxHint`; the engine sends no such field. */
  readonly hint: string | null;

  constructor(code: ErrorCodeName, message: string, object: Record<string, unknown> | null = null, hint: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.object = object;
    this.hint = hint;
  }

  get errorCode(): number {
    return ERROR_CODES[this.code];
  }
}

/** What a validation error's `object.err` may say went wrong: "regexp" is the engine's own, the rest the sandbox's. */
export const PARAM_ERRORS = [
  "regexp",
  "required",
  "type",
  "min",
  "max",
  "decimal",
  "reserve",
  "unknown",
  "duplicate",
  "notFound",
  "url",
  "length",
  "notManual",
] as const;
export type ParamError = (typeof PARAM_ERRORS)[number];

/** What a validation error's `object` says: the engine's four keys (`fieldId` and `nameField` for a route field). */
export interface InvalidParamObject {
  /** What went wrong: "regexp" (the engine's), "required", "type", "min", "max", … */
  err: ParamError;
  /** The route field's `_id` for a value-list error, else null. */
  fieldId?: string;
  /** The route field's name for a value-list error, else the parameter's name. */
  nameField?: string;
  /** The value list (fromValues, toValues, routeValues) for a field's error, else the parameter's name. */
  type?: string;
}

/**
 * A parameter-validation error in the engine's exact words: message `Param <type> isn't valid: <nameField>` and
 * `object: {fieldId, nameField, err, type}`. Whatever more the sandbox can say goes in `hint` (error.sandboxHint),
 * so a merchant's code sees what the real service sends and a person still reads how to fix the request.
 */
export function invalidParam(param: string, hint: string, object: InvalidParamObject): ApiError {
  const type = object.type ?? param;
  const nameField = object.nameField ?? param;
  return new ApiError("validation", `Param ${type} isn't valid: ${nameField}`, { fieldId: object.fieldId ?? null, nameField, err: object.err, type }, hint);
}

/** An error of the sandbox's control API, answered with a real HTTP status. */
export class ControlError extends Error {
  readonly status: 400 | 401 | 404 | 409 | 413;
  readonly type: string;

  constructor(status: 400 | 401 | 404 | 409 | 413, type: string, message: string) {
    super(message);
    this.name = "ControlError";
    this.status = status;
    this.type = type;
  }
}
