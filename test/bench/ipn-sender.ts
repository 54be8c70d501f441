// Sends signed IPNs to a sink in batches the parent asks for, either through the sandbox's dispatcher or through a
// plain keep-alive POST loop of the same bodies at the same concurrency; answers each batch with its time.

import http from "node:http";
import { parseArgs } from "node:util";
import type { IpnFields } from "../../sandbox/index.js";
import { loadIpn, loadSandbox, runChild, tell } from "./lib.js";

const { values } = parseArgs({
  options: {
    mode: { type: "string" },
    url: { type: "string" },
    sockets: { type: "string", default: "32" },
  },
});
const url = values.url!;
const sockets = Number(values.sockets);
const SECRET = "bench-ipn-secret";

/** IPN n: the docs' example order, with its own uid and id, so every body differs as real ones do. */
function fieldsFor(n: number): IpnFields {
  return {
    orderUID: String(1001 + n),
    orderId: (0x5d9f3a1c00000000n + BigInt(n)).toString(16).padStart(24, "0"),
    newStatus: "waitPayment",
    inAmount: "2",
    outAmount: "317.42",
    xml_from: "ETH",
    xml_to: "WMZ",
    timestamp: String(1_764_081_234_567 + n),
    toValues: [{ key: "0f3e6210a6998f0ddec770da", name: "WMZ purse", value: "Z345677864658" }],
  };
}

/** Sends IPNs `from` … `from + count - 1`; resolves with how many the sink accepted and the first body sent. */
type SendBatch = (from: number, count: number) => Promise<{ accepted: number; firstBody: string | null; seconds?: number }>;

async function dispatcherSender(): Promise<SendBatch> {
  const sandbox = await loadSandbox();
  const { createDispatcher } = await loadIpn();
  const store = sandbox.createMemoryStore();
  const dispatcher = createDispatcher({
    store,
    clock: sandbox.createClock("real"),
    logger: sandbox.createLogger({ quiet: true }),
    maxSocketsPerOrigin: sockets,
  });
  return async (from, count) => {
    // Each batch's records only: a store that grows across batches would weigh on the later ones.
    store.reset();
    for (let n = from; n < from + count; n++) {
      const fields = fieldsFor(n);
      dispatcher.dispatch({ orderUID: Number(fields.orderUID), url, secret: SECRET, fields });
    }
    await dispatcher.idle();
    const records = store.listDeliveries();
    return { accepted: records.filter((r) => r.outcome === "accepted").length, firstBody: records[0]?.body ?? null };
  };
}

async function loopSender(): Promise<SendBatch> {
  const { encodeIpnBody, signIpn } = await loadSandbox();
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const request = http.request(url, {
        method: "POST",
        agent,
        headers: { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": String(Buffer.byteLength(body)) },
      });
      request.on("error", reject);
      request.on("response", (response) => {
        response.on("data", () => {});
        response.on("end", () => resolve(response.statusCode ?? 0));
        response.on("error", reject);
      });
      request.end(body);
    });
  return async (from, count) => {
    // The bodies are made before the clock starts: the loop only sends.
    const bodies = Array.from({ length: count }, (_, i) => {
      const fields = fieldsFor(from + i);
      return encodeIpnBody(fields, "hash", signIpn(fields, SECRET).hash);
    });
    let next = 0;
    let accepted = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const status = await post(bodies[next++]!);
        if (status >= 200 && status < 300) accepted++;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: sockets }, worker));
    return { accepted, firstBody: bodies[0] ?? null, seconds: (performance.now() - started) / 1000 };
  };
}

runChild(async () => {
  if (values.mode !== "dispatcher" && values.mode !== "loop") throw new Error(`--mode must be dispatcher or loop, got ${JSON.stringify(values.mode)}`);
  const sendBatch = values.mode === "dispatcher" ? await dispatcherSender() : await loopSender();
  process.on("message", (message: { type?: string; from?: number; count?: number }) => {
    if (message.type !== "batch") return;
    const started = performance.now();
    sendBatch(message.from!, message.count!).then(
      ({ accepted, firstBody, seconds }) =>
        process.send?.({ type: "answer", accepted, firstBody, seconds: seconds ?? (performance.now() - started) / 1000 }),
      (error: unknown) => tell({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
  tell({ type: "ready", port: 0 });
  return undefined;
});
