// The baseline server: a bare Hono hello-world on @hono/node-server, the least any Hono app can cost per request.

import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { HOST, tell } from "./lib.js";

const app = new Hono();
app.get("/", (c) => c.text("Hello Hono!"));

const server = serve({ fetch: app.fetch, port: 0, hostname: HOST }, (info: AddressInfo) => tell({ type: "ready", port: info.port }));
process.once("SIGTERM", () => {
  server.close();
  process.exit(0);
});
