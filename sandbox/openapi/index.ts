// The OpenAPI 3.1 description of what the sandbox imitates (merchant API, IPN webhook) and of its control API, made
// from the code's own tables; served at /_sandbox/openapi.json and shipped as the package's openapi.json.

import type { Handler } from "hono";
import { API_BASE_PATH } from "../api/index.js";
import { AUTH_TIME_WINDOW_MS, TEST_CREDENTIALS } from "../api/auth.js";
import { createDefaultCatalog } from "../catalog/index.js";
import type { Route } from "../catalog/types.js";
import { ADMIN_COOKIE } from "../control/admin-auth.js";
import { CONTROL_BASE_PATH } from "../control/index.js";
import { DEFAULT_IPN_HASH_FIELD, DEFAULT_IPN_TIMEOUT_MS } from "../ipn/index.js";
import { DEFAULT_CATALOG_SEED } from "../seed.js";
import { VERSION } from "../version.js";
import { controlApi, controlErrorResponses, pagePaths } from "./control-api.js";
import { controlSchemas } from "./control-schemas.js";
import { CHECKSUM_RECIPE, checksumDescription, exampleIpnBody, ipnSchemas } from "./ipn-schemas.js";
import { LANG_PARAMETER, merchantApi } from "./merchant-api.js";
import { merchantSchemas } from "./merchant-schemas.js";
import { ref } from "./schema.js";

/** Where a running sandbox serves its own description. */
export const OPENAPI_PATH = `${CONTROL_BASE_PATH}/openapi.json`;

export interface OpenApiOptions {
  /** The IPN checksum's field name (default DEFAULT_IPN_HASH_FIELD). */
  ipnHashField?: string;
  /**
   * Whether /_sandbox/* wants the admin token: true when the sandbox has one, false when it has none; left out (the
   * shipped file), the description says it depends on how the sandbox was started.
   */
  adminToken?: boolean;
  /** The sandbox's URL; left out, `http://{host}:{port}` with 127.0.0.1 and 7070 as defaults. */
  serverUrl?: string;
  /** The route the request examples use (default: the default catalogue's first, ETH → WMZ). */
  exampleRoute?: Route;
}

export type OpenApiDocument = Record<string, unknown> & { openapi: "3.1.0"; paths: Record<string, unknown> };

/** The OpenAPI 3.1 document. The same options always give the same document. */
export function buildOpenApi(options: OpenApiOptions = {}): OpenApiDocument {
  const hashField = options.ipnHashField ?? DEFAULT_IPN_HASH_FIELD;
  const exampleRoute = options.exampleRoute ?? createDefaultCatalog(DEFAULT_CATALOG_SEED).routes[0];
  const adminSecurity: Record<string, string[]>[] =
    options.adminToken === true ? [{ adminToken: [] }, { adminCookie: [] }] : options.adminToken === false ? [{}] : [{}, { adminToken: [] }, { adminCookie: [] }];
  const merchant = merchantApi(exampleRoute);
  return {
    openapi: "3.1.0",
    info: {
      title: "exchanger-sandbox",
      version: VERSION,
      summary: "A local imitation of a crypto exchanger's merchant API and IPN, and the sandbox's own control API.",
      description: infoDescription(hashField),
      license: { name: "MIT", identifier: "MIT" },
    },
    servers:
      options.serverUrl === undefined
        ? [
            {
              url: "http://{host}:{port}",
              description: "A sandbox started with `npx exchanger-sandbox start` (which listens on 127.0.0.1:7070 unless told otherwise).",
              variables: { host: { default: "127.0.0.1" }, port: { default: "7070" } },
            },
          ]
        : [{ url: options.serverUrl, description: "This sandbox." }],
    tags: [
      { name: "merchant API", description: `The exchanger's merchant API, under \`${API_BASE_PATH}/\`.` },
      { name: "IPN", description: "The notification the exchanger POSTs to an order's `ipnUrl`: see `webhooks`." },
      { name: "control API", description: `The sandbox's own API under \`${CONTROL_BASE_PATH}/\`: JSON, real HTTP statuses.` },
      { name: "inbox", description: "The built-in IPN endpoint: point an order's `ipnUrl` at it until your own handler runs." },
      { name: "scenarios", description: "Scenarios in a running sandbox: served when the scenario engine is installed, as `exchanger-sandbox start` does." },
      { name: "dashboard", description: "The dashboard, for people." },
      { name: "pages", description: "The buyer's payment and order pages." },
    ],
    paths: { ...merchant.paths, ...controlApi(adminSecurity), ...pagePaths() },
    webhooks: { ipn: { post: ipnWebhook(hashField) } },
    components: {
      schemas: { ...merchantSchemas(), ...ipnSchemas(hashField), ...controlSchemas() },
      parameters: { Lang: LANG_PARAMETER },
      requestBodies: merchant.requestBodies,
      responses: { ...merchant.responses, ...controlErrorResponses() },
      securitySchemes: {
        apiKey: {
          type: "apiKey",
          in: "header",
          name: "apikey",
          description: `The merchant's API key (the sandbox's test key is \`${TEST_CREDENTIALS.apiKey}\`). Optional: without it an order is public. Always with \`hash\`.`,
        },
        requestHash: {
          type: "apiKey",
          in: "header",
          name: "hash",
          description:
            "`sha256hex(sha256hex(JSON.stringify(params)) + apiSecret)`, with a `time` parameter (Unix ms) among the params, within " +
            `${AUTH_TIME_WINDOW_MS / 60_000} minutes of the sandbox clock. For a JSON body the hash may be over the body exactly as sent. ` +
            `The test secret is \`${TEST_CREDENTIALS.apiSecret}\`.`,
        },
        adminToken: {
          type: "http",
          scheme: "bearer",
          description: "The admin token a sandbox is started with (`--admin-token`, `adminToken`): then every `/_sandbox` call but posting to an inbox wants it.",
        },
        adminCookie: {
          type: "apiKey",
          in: "cookie",
          name: ADMIN_COOKIE,
          description: `The dashboard's session, set by opening \`${CONTROL_BASE_PATH}/?token=TOKEN\` once.`,
        },
      },
    },
  };
}

function infoDescription(hashField: string): string {
  return [
    "What [exchanger-sandbox](https://www.npmjs.com/package/exchanger-sandbox) imitates, and its own control API.",
    "",
    `- **The merchant API** (\`${API_BASE_PATH}/…\`): every method answers HTTP 200 with \`{"success": true, "data": …, "latency_ms": N, "requestId": "…"}\` ` +
      "or, on failure, `{\"success\": false, \"error\": {…, \"errorCode\": N}, …}` (see `ErrorCode`). POST and PUT take JSON, or a form " +
      "(urlencoded or multipart) with PHP-style bracket keys; GET takes query parameters. The trailing slash is optional. " +
      "A wrong HTTP verb, or a method that does not exist, answers `unknownMethod`.",
    `- **The IPN** (\`webhooks.ipn\`): a form POST to the order's \`ipnUrl\` on each status change, checksum \`${CHECKSUM_RECIPE}\` in \`${hashField}\`.`,
    `- **The control API** (\`${CONTROL_BASE_PATH}/…\`): JSON with real HTTP statuses; it wants the admin token when the sandbox has one.`,
    "",
    "Any request whose Host names the sandbox by a name it was not given gets 421 (`misdirected`); an unexpected error, 500 (`internal`).",
    "Marked (sandbox) where the sandbox decided what the exchanger's docs leave open: the error codes after the first two, `error.sandboxHint`, and all of the control API.",
  ].join("\n");
}

function ipnWebhook(hashField: string): Record<string, unknown> {
  return {
    tags: ["IPN"],
    operationId: "ipn",
    summary: "An order changed status",
    description: [
      "On each status change of an order that has an `ipnUrl` (not on its creation), the exchanger POSTs this form to the `ipnUrl`, once: " +
        `never retried, and lost if the merchant does not answer within ${DEFAULT_IPN_TIMEOUT_MS / 1000} s (the sandbox's default, \`--ipn-timeout\`). ` +
        "Reconcile with order/get.",
      "",
      checksumDescription(hashField),
      "",
      "On the wire (the docs' example):",
      "",
      "```",
      exampleIpnBody(hashField),
      "```",
      "",
      "A delivery fault asked for through the control API may break this on purpose (a missing or wrong checksum, a changed field, a body that is not valid form encoding).",
    ].join("\n"),
    requestBody: {
      required: true,
      content: {
        "application/x-www-form-urlencoded": {
          schema: ref("IpnBody"),
          encoding: { toValues: { style: "deepObject", explode: true } },
        },
      },
    },
    responses: {
      "2XX": { description: "Taken: the sandbox records the delivery as `accepted`." },
      default: { description: "Any other status is recorded as `rejected` (redirects are not followed); no answer in time, as `timeout`. Never retried." },
    },
  };
}

/** The document as the package ships it: the default options, two-space JSON and a final newline. */
export function openApiJson(options: OpenApiOptions = {}): string {
  return `${JSON.stringify(buildOpenApi(options), null, 2)}\n`;
}

/** `GET /_sandbox/openapi.json`: the sandbox's own description, made once, its server the URL it was asked by. */
export function openApiRoute(options: Omit<OpenApiOptions, "serverUrl">): Handler {
  let document: OpenApiDocument | null = null;
  return (c) => {
    document ??= buildOpenApi(options);
    return c.json({ ...document, servers: [{ url: new URL(c.req.url).origin, description: "This sandbox." }] });
  };
}
