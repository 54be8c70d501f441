// The baseline server: a bare Hono hello-world on @hono/node-server, the least any Hono app can cost per request.
// It also serves two "floor" routes, which do what any Hono app must for the sandbox's own requests and nothing
// more: read the query or the JSON body the same way, and answer the bytes the sandbox answered (sent by the parent).

import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { HOST, tell } from "./lib.js";

const JSON_TYPE = { "Content-Type": "application/json" };
const samples = { get: "{}", create: "{}" };
process.on("message", (message: { type?: string; get?: string; create?: string }) => {
  if (message.type !== "samples") return;
  samples.get = message.get ?? samples.get;
  samples.create = message.create ?? samples.create;
  process.send?.({ type: "answer" });
});

const app = new Hono();
app.get("/", (c) => c.text("Hello Hono!"));
app.get("/floor/get", (c) => {
  if (Object.keys(c.req.query()).length === 0) return c.text("no query", 400);
  return c.body(samples.get, 200, JSON_TYPE);
});
app.post("/floor/create", async (c) => {
  const body: unknown = await c.req.json();
  if (typeof body !== "object" || body === null) return c.text("not an object", 400);
  return c.body(samples.create, 200, JSON_TYPE);
});

const server = serve({ fetch: app.fetch, port: 0, hostname: HOST }, (info: AddressInfo) => tell({ type: "ready", port: info.port }));
process.once("SIGTERM", () => {
  server.close();
  process.exit(0);
});
