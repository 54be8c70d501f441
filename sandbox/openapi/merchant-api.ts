// The merchant API's paths for the OpenAPI description: one operation per method of API_METHODS, with and without the
// trailing slash.

import { API_BASE_PATH, API_METHODS, type ApiMethodName } from "../api/index.js";
import type { Route } from "../catalog/types.js";
import { ERROR_CODES, type ErrorCodeName } from "../errors.js";
import { exampleCreateParams, LANGS } from "../orders/create.js";
import { ref, type PropsOf, type Schema } from "./schema.js";

type ParamsOf<M extends ApiMethodName> = Record<(typeof API_METHODS)[M]["params"][number], unknown>;

/** Errors every method can answer: a bad parameter, maintenance, an unreadable request, a failed authorization. */
const COMMON_ERRORS = ["validation", "maintenance", "malformedBody", "unauthorized"] as const satisfies readonly ErrorCodeName[];
/** Errors of a method that reads a body. */
const BODY_ERRORS = [...COMMON_ERRORS, "bodyTooLarge"] as const satisfies readonly ErrorCodeName[];

interface MethodDoc {
  operationId: string;
  summary: string;
  description: string;
  /** The errorCodes this method can answer with (`x-error-codes`). */
  errors: readonly ErrorCodeName[];
  /** The success envelope's schema. */
  success: string;
  /** GET: the query parameters, each with its schema; those in `required` must be given. */
  query?: { schemas: Record<string, Schema>; required: readonly string[] };
  /** POST and PUT: the parameters' schema (JSON, form or multipart). */
  body?: string;
}

const queryOf = <M extends ApiMethodName>(schemas: PropsOf<ParamsOf<M>>, required: readonly (keyof ParamsOf<M>)[]) => ({
  schemas: schemas as Record<string, Schema>,
  required: required as readonly string[],
});

const TIME = { type: "integer", description: "Unix time in ms, with the `apikey`/`hash` authorization." };

/** Each method as the description shows it: the table is keyed by API_METHODS, so a new method must be described. */
const METHOD_DOCS: Record<ApiMethodName, MethodDoc> = {
  "public/exchanger/order/create": {
    operationId: "createOrder",
    summary: "Create an order",
    description:
      "Validates the route, the amount against the route's min and max, every required field against its `regexp`, and the URLs, then " +
      "creates the order in status `new`. With `ipnUrl`, each later status change POSTs the `ipn` webhook there (not the creation itself).",
    errors: BODY_ERRORS,
    success: "CreateOrderSuccess",
    body: "CreateOrderParams",
  },
  "public/exchanger/order/get": {
    operationId: "getOrder",
    summary: "Read an order",
    description:
      "How a merchant reconciles when an IPN never arrives. A wrong secret answers exactly as an unknown uid does. " +
      "`type=payment` adds `order.payment`: what the client must send, where, and until when.",
    errors: [...COMMON_ERRORS, "notFound"],
    success: "OrderGetSuccess",
    query: queryOf<"public/exchanger/order/get">(
      {
        orderUID: { type: "integer", minimum: 1, description: "The order's `uid`." },
        orderSecret: { type: "string", description: "The order's `secret`." },
        type: { type: "string", enum: ["order", "payment"], default: "order" },
        time: TIME,
      },
      ["orderUID", "orderSecret"],
    ),
  },
  "public/exchanger/order/update-status": {
    operationId: "updateOrderStatus",
    summary: "Move an order",
    description:
      "A merchant may move `waitPayment → inProgress` after a manual payment, on a manual route only (elsewhere the validation error with " +
      "`err: notManual`), and `new` or `waitPayment → deleted` (cancel). Any other move is `badTransition`.",
    errors: [...BODY_ERRORS, "notFound", "badTransition"],
    success: "UpdateStatusSuccess",
    body: "UpdateStatusParams",
  },
  "public/exchanger/route/get": {
    operationId: "listRoutes",
    summary: "List the routes",
    description: "The routes a merchant can create orders on, with rates, limits, reserves and the fields each asks for.",
    errors: COMMON_ERRORS,
    success: "RouteListSuccess",
    query: queryOf<"public/exchanger/route/get">(
      {
        fromCurrencyId: { ...ref("ObjectId"), description: "Only routes from this currency (its `_id`)." },
        toCurrencyId: { ...ref("ObjectId"), description: "Only routes to this currency (its `_id`)." },
        time: TIME,
      },
      [],
    ),
  },
  "public/exchanger/route/get/one": {
    operationId: "getRoute",
    summary: "Read one route",
    description: "One route, as route/get lists it.",
    errors: [...COMMON_ERRORS, "notFound"],
    success: "RouteSuccess",
    query: queryOf<"public/exchanger/route/get/one">({ id: { ...ref("ObjectId"), description: "The route's `_id`." }, time: TIME }, ["id"]),
  },
};

const BODY_TYPES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"] as const;
const VALUE_LISTS = ["fromValues", "toValues", "routeValues"];

/** The merchant API's paths, and the request bodies and responses they share. */
export function merchantApi(exampleRoute: Route | undefined): { paths: Record<string, unknown>; requestBodies: Record<string, unknown>; responses: Record<string, unknown> } {
  const paths: Record<string, unknown> = {};
  const requestBodies: Record<string, unknown> = {};
  const responses: Record<string, unknown> = {};
  const examples: Record<string, unknown> = {
    CreateOrderParams: exampleRoute === undefined ? undefined : exampleCreateParams(exampleRoute),
    UpdateStatusParams: { orderUID: 1001, orderSecret: "dGqwF2M2eBPaSN1G5ljMS1cb", status: "deleted" },
  };
  for (const name of Object.keys(API_METHODS) as ApiMethodName[]) {
    const doc = METHOD_DOCS[name];
    const { verb } = API_METHODS[name];
    const responseName = doc.success.replace(/Success$/, "Response");
    responses[responseName] = {
      description: "HTTP 200 for a success and a failure alike: `success` tells them apart.",
      content: { "application/json": { schema: { oneOf: [ref(doc.success), ref("ApiFailure")] } } },
    };
    if (doc.body !== undefined) {
      const example = examples[doc.body];
      // A form sends the value lists as PHP-style brackets: fromValues[0][key]=…
      const encoding = doc.body === "CreateOrderParams" ? { encoding: Object.fromEntries(VALUE_LISTS.map((list) => [list, { style: "deepObject", explode: true }])) } : {};
      requestBodies[doc.body] = {
        required: true,
        description: "A JSON body, or a form (urlencoded or multipart) with PHP-style bracket keys; a body without a Content-Type is refused (`malformedBody`).",
        content: Object.fromEntries(
          BODY_TYPES.map((type) => [
            type,
            {
              schema: ref(doc.body!),
              ...(type === "application/json" && example !== undefined ? { example } : {}),
              ...(type === "application/json" ? {} : encoding),
            },
          ]),
        ),
      };
    }
    const errors = doc.errors.map((code) => `\`${code}\` (${ERROR_CODES[code]})`).join(", ");
    const operation = (withSlash: boolean) => ({
      tags: ["merchant API"],
      operationId: withSlash ? doc.operationId : `${doc.operationId}WithoutSlash`,
      summary: withSlash ? doc.summary : `${doc.summary} (without the trailing slash)`,
      description: withSlash
        ? `\`${name}\`. ${doc.description}\n\nErrors: ${errors}.`
        : `The same method as \`${verb} ${API_BASE_PATH}/${name}/\`: the trailing slash is optional (the engine's own client always sends it).`,
      security: [{}, { apiKey: [], requestHash: [] }],
      parameters: [
        { $ref: "#/components/parameters/Lang" },
        ...Object.entries(doc.query?.schemas ?? {}).map(([param, schema]) => ({
          name: param,
          in: "query",
          required: doc.query!.required.includes(param),
          schema,
        })),
      ],
      ...(doc.body === undefined ? {} : { requestBody: { $ref: `#/components/requestBodies/${doc.body}` } }),
      responses: { "200": { $ref: `#/components/responses/${responseName}` } },
      "x-error-codes": [...doc.errors],
    });
    paths[`${API_BASE_PATH}/${name}/`] = { [verb.toLowerCase()]: operation(true) };
    paths[`${API_BASE_PATH}/${name}`] = { [verb.toLowerCase()]: operation(false) };
  }
  return { paths, requestBodies, responses };
}

/** The `Lang` header every method takes. */
export const LANG_PARAMETER = {
  name: "Lang",
  in: "header",
  required: false,
  description: "The client's language: accepted and ignored (the sandbox's messages are English).",
  schema: { type: "string", enum: [...LANGS] },
};
