// Starts a real sandbox on port 0 for integration tests and calls its API and control API over HTTP.

import { createSandbox, type Sandbox, type SandboxOptions } from "../../sandbox/index.js";
import type { Route } from "../../sandbox/index.js";
export { exampleCreateParams as validCreateBody } from "../../sandbox/index.js";

export interface RunningSandbox {
  sandbox: Sandbox;
  url: string;
  /** Calls an API method with a JSON body (POST/PUT) or query (GET); returns the parsed envelope. */
  api(method: "GET" | "POST" | "PUT", name: string, params?: Record<string, unknown>, headers?: Record<string, string>): Promise<Envelope>;
  /** Calls the control API; returns HTTP status and parsed JSON. */
  control(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

export interface Envelope {
  success: boolean;
  data?: any;
  error?: { apiError: boolean; message: string; errorType: string; object: any; level: number; errorCode: number };
  latency_ms: number;
  requestId: string;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const sandbox = createSandbox(options);
  const { url } = await sandbox.listen(0);
  return {
    sandbox,
    url,
    async api(method, name, params = {}, headers = {}) {
      const target = new URL(`${url}/service/api/v1/${name}/`);
      let body: string | undefined;
      if (method === "GET") {
        for (const [k, v] of Object.entries(params)) target.searchParams.set(k, String(v));
      } else {
        body = JSON.stringify(params);
      }
      const res = await fetch(target, { method, body, headers: { "content-type": "application/json", ...headers } });
      if (res.status !== 200) throw new Error(`API answered HTTP ${res.status}: ${await res.text()}`);
      return (await res.json()) as Envelope;
    },
    async control(method, path, body) {
      const res = await fetch(`${url}/_sandbox${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
      });
      return { status: res.status, json: await res.json() };
    },
    close: () => sandbox.close(),
  };
}

export function routeByXml(sandbox: Sandbox, from: string, to: string): Route {
  const route = sandbox.catalog.routes.find((r) => r.from.xml === from && r.to.xml === to);
  if (!route) throw new Error(`no ${from} → ${to} route in the catalogue`);
  return route;
}
