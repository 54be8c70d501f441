// A merchant's IPN endpoint reduced to its cost: reads each form POST, answers 200 "ok", and counts what arrived.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { HOST, tell } from "./lib.js";

/** With --track, also remembers each IPN's orderUID and newStatus, so deliveries can be matched one by one. */
const track = process.argv.includes("--track");
let received = 0;
const seen = new Set<string>();

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    // Warm-up traffic goes to another path, so that it does not count.
    if (request.url !== "/ipn") {
      response.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
      response.end("ok");
      return;
    }
    received++;
    if (track) {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      seen.add(`${form.get("orderUID")}:${form.get("newStatus")}`);
    }
    response.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
    response.end("ok");
  });
});
server.keepAliveTimeout = 30_000;

// The parent asks for the counts once the sender is done.
process.on("message", (message: { type?: string }) => {
  if (message.type === "count") process.send?.({ type: "answer", received, distinct: [...seen] });
});
server.listen(0, HOST, () => tell({ type: "ready", port: (server.address() as AddressInfo).port }));
process.once("SIGTERM", () => {
  server.closeAllConnections();
  server.close();
  process.exit(0);
});
