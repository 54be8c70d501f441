// Checks live responses against the OpenAPI description: each against the schema for its path, method, status and
// content type (JSON Schema 2020-12 through ajv), and keeps count of which documented responses were seen.

import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { OpenApiDocument } from "../../sandbox/openapi/index.js";

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => void;

type Json = Record<string, unknown>;

const DEFS_ID = "urn:exchanger-sandbox:openapi";

/** An ajv for OpenAPI 3.1's schemas: 2020-12, strict, with the formats and the OpenAPI and extension keywords. */
export function openApiAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addVocabulary(["x-enum-varnames", "example", "discriminator", "xml", "externalDocs"]);
  return ajv;
}

/** A copy of `value` with every components.schemas reference pointed at the $defs ajv holds them under. */
function retarget(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(retarget);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === "$ref" && typeof inner === "string" ? inner.replace("#/components/schemas/", `${DEFS_ID}#/$defs/`) : retarget(inner),
    ]),
  );
}

/**
 * The same schema, with every object that lists its properties closed to others: the description leaves them open
 * (the real service may send more), but the sandbox must send exactly what it documents.
 */
export function closed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(closed);
  if (typeof value !== "object" || value === null) return value;
  // Values, and the conditions of if/then, which name only the properties they test.
  const asIs = new Set(["examples", "example", "default", "const", "enum", "if", "then", "else"]);
  const out = Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, asIs.has(key) ? inner : closed(inner)])) as Json;
  const isObject = out.type === "object" || (Array.isArray(out.type) && out.type.includes("object"));
  if (isObject && out.properties !== undefined && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

export interface Seen {
  status: number;
  /** The parsed JSON, or the text: whatever the response documented it to be. */
  body: any;
  headers: Headers;
}

export interface SpecChecker {
  readonly doc: OpenApiDocument;
  /** Validates what `method url` answered against the description; throws, naming the schema's complaints, if it differs. */
  check(method: string, url: string, status: number, contentType: string | null, body: unknown): void;
  /** Compiles a schema of the document (its references to components included): throws when it is no valid schema. */
  compile(schema: unknown): void;
  /** Validates `value` against the component schema `name`. */
  checkSchema(name: string, value: unknown): void;
  /** Fetches, reads the body by its type, checks it, and returns it. */
  fetch(url: string, init?: RequestInit): Promise<Seen>;
  /** The documented responses (`METHOD /path status`) under `prefix` that no check has seen. */
  unseen(prefix: string): string[];
  /** Every response seen, for the report. */
  readonly seen: ReadonlySet<string>;
}

export function specChecker(doc: OpenApiDocument): SpecChecker {
  const ajv = openApiAjv();
  const components = (doc.components as Json).schemas as Json;
  ajv.addSchema({ $id: DEFS_ID, $defs: retarget(closed(components)) as Json });
  const compiled = new Map<string, ValidateFunction>();
  const validatorFor = (key: string, schema: unknown) => {
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(retarget(closed(schema)) as Json);
      compiled.set(key, validate);
    }
    return validate;
  };
  const templates = Object.keys(doc.paths)
    .map((template) => ({
      template,
      params: (template.match(/\{/g) ?? []).length,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
    }))
    .sort((a, b) => a.params - b.params);
  const seen = new Set<string>();
  const resolve = (value: Json): Json => {
    const target = value.$ref;
    if (typeof target !== "string") return value;
    const [, section, name] = /^#\/components\/(\w+)\/(.+)$/.exec(target)!;
    return ((doc.components as Json)[section!] as Json)[name!] as Json;
  };

  const checker: SpecChecker = {
    doc,
    seen,
    check(method, url, status, contentType, body) {
      const path = new URL(url).pathname;
      const match = templates.find((t) => t.pattern.test(path) && (doc.paths[t.template] as Json)[method.toLowerCase()] !== undefined);
      if (!match) throw new Error(`the description has no ${method} operation for ${path}`);
      const operation = (doc.paths[match.template] as Json)[method.toLowerCase()] as Json;
      const responses = operation.responses as Json;
      const documented = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
      if (documented === undefined) throw new Error(`${method} ${match.template} documents no ${status} response; it answered ${status} with ${JSON.stringify(body)?.slice(0, 300)}`);
      const response = resolve(documented as Json);
      const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
      const media = (response.content as Json | undefined)?.[type] as Json | undefined;
      if (!media) throw new Error(`${method} ${match.template} ${status} is documented without ${type}; its content types are ${Object.keys((response.content as Json) ?? {}).join(", ")}`);
      const validate = validatorFor(`${method} ${match.template} ${status} ${type}`, media.schema);
      if (!validate(body)) {
        throw new Error(`${method} ${path} ${status} differs from the description: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)?.slice(0, 1500)}`);
      }
      seen.add(`${method.toUpperCase()} ${match.template} ${status}`);
    },
    compile(schema) {
      ajv.compile(retarget(closed(schema)) as Json);
    },
    checkSchema(name, value) {
      const validate = validatorFor(`#${name}`, { $ref: `#/components/schemas/${name}` });
      if (!validate(value)) throw new Error(`${name} differs from the description: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)?.slice(0, 1500)}`);
    },
    async fetch(url, init = {}) {
      const res = await fetch(url, init);
      const type = res.headers.get("content-type");
      const text = await res.text();
      const body = type?.includes("json") ? JSON.parse(text) : text;
      checker.check(init.method ?? "GET", url, res.status, type, body);
      return { status: res.status, body, headers: res.headers };
    },
    unseen(prefix) {
      const missing: string[] = [];
      for (const [template, item] of Object.entries(doc.paths)) {
        if (!template.startsWith(prefix)) continue;
        for (const [method, operation] of Object.entries(item as Json)) {
          for (const status of Object.keys((operation as Json).responses as Json)) {
            const key = `${method.toUpperCase()} ${template} ${status}`;
            if (!seen.has(key)) missing.push(key);
          }
        }
      }
      return missing;
    },
  };
  return checker;
}
