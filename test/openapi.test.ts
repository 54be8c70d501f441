// The OpenAPI description: a valid OpenAPI 3.1 document by a standard validator, every schema a valid JSON Schema,
// shipped as openapi.json exactly as the code makes it, served behind the admin token, and naming every route.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterEach, describe, expect, it } from "vitest";
import { createSandbox, ERROR_CODE_DOCS, ERROR_CODES, type Sandbox } from "../sandbox/index.js";
import { buildOpenApi, openApiJson, type OpenApiDocument, type OpenApiOptions } from "../sandbox/openapi/index.js";
import { BUILTIN_SCENARIOS, scenarioDirector } from "../scenarios/index.js";
import { readDoc } from "./support/docs.js";
import { specChecker } from "./support/openapi.js";
import { REPO } from "./support/package.js";

type Json = Record<string, unknown>;

const open: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((sandbox) => sandbox.close()));
});

async function listening(options: Parameters<typeof createSandbox>[0] = {}) {
  const sandbox = createSandbox(options);
  open.push(sandbox);
  const { url } = await sandbox.listen(0);
  return { sandbox, url };
}

/** Every schema the document holds: its components' and each one under a parameter, a body or a response. */
function everySchema(doc: OpenApiDocument): [string, unknown][] {
  const found: [string, unknown][] = [];
  const walk = (value: unknown, where: string) => {
    if (typeof value !== "object" || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === "schema") found.push([`${where}.schema`, inner]);
      else if (where === "$.components" && key === "schemas") for (const [name, schema] of Object.entries(inner as Json)) found.push([`#/components/schemas/${name}`, schema]);
      else walk(inner, `${where}.${key}`);
    }
  };
  walk(doc, "$");
  return found;
}

const OPTIONS: [string, OpenApiOptions][] = [
  ["the shipped file", {}],
  ["a sandbox with an admin token and its own checksum field", { adminToken: true, ipnHashField: "signature", serverUrl: "http://127.0.0.1:9" }],
  ["a sandbox without an admin token", { adminToken: false, serverUrl: "http://localhost:7070" }],
];

describe("the OpenAPI description", () => {
  it.each(OPTIONS)("is a valid OpenAPI 3.1 document, as %s has it", async (_, options) => {
    const validator = new Validator();
    const result = await validator.validate(buildOpenApi(options));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("is refused by the validator when a reference dangles or a required part is missing", async () => {
    const dangling = buildOpenApi();
    ((dangling.components as Json).schemas as Record<string, Json>).Health!.properties = { version: { $ref: "#/components/schemas/Nope" } };
    expect((await new Validator().validate(dangling)).valid).toBe(false);
    const { info: _info, ...noInfo } = buildOpenApi();
    expect((await new Validator().validate(noInfo)).valid).toBe(false);
  });

  it("holds only schemas that ajv compiles as JSON Schema 2020-12 in strict mode", () => {
    const doc = buildOpenApi();
    const schemas = everySchema(doc);
    expect(schemas.length).toBeGreaterThan(60);
    // Building the checker compiles every component; each other schema is compiled beside them.
    const checker = specChecker(doc);
    for (const [where, schema] of schemas) {
      expect(() => checker.compile(schema), where).not.toThrow();
    }
  });

  it("gives examples that its own schemas take", () => {
    const doc = buildOpenApi();
    const checker = specChecker(doc);
    const components = doc.components as Json;
    const bodies = components.requestBodies as Record<string, Json>;
    const examples = Object.entries(bodies).map(([name, body]) => [name, ((body.content as Json)["application/json"] as Json).example] as const);
    expect(examples.map(([name]) => name)).toEqual(["CreateOrderParams", "UpdateStatusParams"]);
    for (const [name, example] of examples) checker.checkSchema(name, example);
    for (const example of (components.schemas as Record<string, Json>).IpnBody!.examples as unknown[]) checker.checkSchema("IpnBody", example);
  });

  it("is shipped as openapi.json, exactly as the code makes it", () => {
    const shipped = readFileSync(new URL("../openapi.json", import.meta.url), "utf8");
    expect(shipped === openApiJson(), "openapi.json differs from what the code makes: run `npm run openapi` and commit it").toBe(true);
  });

  it("is in the package: listed in its files and exported as exchanger-sandbox/openapi.json", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { exports: Json };
    expect(manifest.exports["./openapi.json"]).toBe("./openapi.json");
    // The package resolves its own name through its exports, as a merchant's project resolves it.
    const resolved = createRequire(import.meta.url).resolve("exchanger-sandbox/openapi.json");
    expect(JSON.parse(readFileSync(resolved, "utf8")).openapi).toBe("3.1.0");
    const [packed] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: REPO, encoding: "utf8" })) as { files: { path: string }[] }[];
    expect(packed!.files.map((f) => f.path)).toContain("openapi.json");
  });

  it("states the docs' checksum recipe and golden vector, worked through the sandbox's own signer", () => {
    const webhook = ((buildOpenApi().webhooks as Json).ipn as Json).post as Json;
    expect(webhook.description).toContain("`sha256(orderId:newStatus:inAmount:outAmount:xml_from:xml_to:timestamp:ipnSecret)` in lower-case hex");
    // The merchant docs' own example: the description computes it, so a signer that drifts would show here.
    expect(webhook.description).toContain(
      "`5d8e6002b80b7b4cd75a6424:inProgress:2:317.42:ETH:WMZ:1571328406072:SECRET123` → `af3acf947e6f0e0f2c267e300b8582e504dba12d1f2d058652b7414163c09f48`",
    );
  });

  it("explains each errorCode as docs/merchant-api.md's error table does, word for word", () => {
    const page = readDoc("docs/merchant-api.md");
    const description = (((buildOpenApi().components as Json).schemas as Record<string, Json>).ErrorCode!.description as string);
    for (const [name, code] of Object.entries(ERROR_CODES) as [keyof typeof ERROR_CODES, number][]) {
      const row = `| ${code} | ${name} | ${ERROR_CODE_DOCS[name]} |`;
      expect(page, `docs/merchant-api.md's row for ${name}`).toContain(row);
      expect(description).toContain(row);
    }
  });

  it("names the checksum field the sandbox is configured with, and only that one", () => {
    const body = (doc: OpenApiDocument) => ((doc.components as Json).schemas as Record<string, Json>).IpnBody!;
    expect(body(buildOpenApi()).required).toContain("hash");
    const custom = body(buildOpenApi({ ipnHashField: "signature" }));
    expect(custom.required).toContain("signature");
    expect(custom.required).not.toContain("hash");
  });

  it("documents every route the sandbox serves (its own pages' and dashboard's files aside), and no other", () => {
    const sandbox = createSandbox({ extensions: [scenarioDirector({ library: BUILTIN_SCENARIOS, ipnTimeoutMs: 1000 })] });
    open.push(sandbox);
    const served = new Set<string>();
    for (const { method, path } of sandbox.app.routes) {
      if (method === "ALL" || path.endsWith("/*")) continue; // middleware, and the API's catch-all below
      if (path === "/_sandbox" || path.startsWith("/_sandbox/dashboard/") || path.startsWith("/_assets/")) continue;
      if (/\/:secret\/(events|pay)$/.test(path)) continue; // the pages' own live updates and "I paid" form
      const template = path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}").replace(/^(\/\{lang\}\/\w+\/\{uid\}\/\{secret\})$/, "$1/");
      served.add(`${method} ${template}`);
    }
    const doc = buildOpenApi();
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      if (path.startsWith("/service/api/v1/")) continue;
      for (const method of Object.keys(item as Json)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    expect([...served].sort()).toEqual([...documented].sort());
  });
});

describe("GET /_sandbox/openapi.json", () => {
  const TOKEN = "openapi-admin-token-0123";

  it("serves this sandbox's own copy: its URL as the server, its checksum field, its catalogue's route in the examples", async () => {
    const { sandbox, url } = await listening({ ipnHashField: "sig", seed: 7 });
    const res = await fetch(`${url}/_sandbox/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const served = (await res.json()) as OpenApiDocument;
    expect(served).toEqual({
      ...buildOpenApi({ ipnHashField: "sig", adminToken: false, exampleRoute: sandbox.catalog.routes[0] }),
      servers: [{ url, description: "This sandbox." }],
    });
    const example = ((((served.components as Json).requestBodies as Json).CreateOrderParams as Json).content as Json)["application/json"] as Json;
    expect((example.example as Json).routeId).toBe(sandbox.catalog.routes[0]!._id);
  });

  it("wants the admin token when the sandbox has one, and then says every control call does", async () => {
    const { url } = await listening({ adminToken: TOKEN });
    expect((await fetch(`${url}/_sandbox/openapi.json`)).status).toBe(401);
    const res = await fetch(`${url}/_sandbox/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenApiDocument;
    const health = (doc.paths["/_sandbox/health"] as Json).get as Json;
    expect(health.security).toEqual([{ adminToken: [] }, { adminCookie: [] }]);
    // The inbox takes the sandbox's own IPNs, which carry no token.
    expect(((doc.paths["/_sandbox/inbox/{name}"] as Json).post as Json).security).toEqual([{}]);
  });

  it("tells a sandbox without a token that its control calls need none", async () => {
    const { url } = await listening();
    const doc = (await (await fetch(`${url}/_sandbox/openapi.json`)).json()) as OpenApiDocument;
    expect(((doc.paths["/_sandbox/health"] as Json).get as Json).security).toEqual([{}]);
  });
});
