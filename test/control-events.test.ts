// GET /_sandbox/events: every event has an id; a client that falls behind is dropped rather than buffered without
// end, and comes back with Last-Event-ID to get exactly what it missed.

import { afterEach, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../sandbox/index.js";
import { validateCreate } from "../sandbox/orders/create.js";
import { routeByXml, validCreateBody } from "./support/sandbox.js";

const open: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(): Promise<{ sandbox: Sandbox; url: string }> {
  const sandbox = createSandbox({ clock: "manual", startAt: Date.UTC(2026, 0, 1) });
  open.push(sandbox);
  const { url } = await sandbox.listen(0);
  return { sandbox, url };
}

/** Makes `count` orders in one go, as a burst of scenario moves or an expiry sweep would: one event each. */
function burst(sandbox: Sandbox, count: number): number[] {
  const input = () => validateCreate(validCreateBody(routeByXml(sandbox, "ETH", "WMZ")), sandbox.catalog);
  return Array.from({ length: count }, () => sandbox.orders.create(input(), null).uid);
}

interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

/** An open event stream, read a message at a time. */
async function connect(url: string, lastEventId?: string) {
  const res = await fetch(`${url}/_sandbox/events`, { headers: lastEventId === undefined ? {} : { "Last-Event-ID": lastEventId } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let ended = false;
  return {
    /** The next message, or null once the server has ended the stream. */
    async next(): Promise<SseEvent | null> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const field = (name: string) => block.split("\n").find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2) ?? null;
          return { id: field("id"), event: field("event") ?? "message", data: field("data") ?? "" };
        }
        if (ended) return null;
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) ended = true;
        else buffer += value;
      }
    },
    close: () => reader.cancel().catch(() => {}),
  };
}

type Stream = Awaited<ReturnType<typeof connect>>;

/** Reads change events until `count` have come, or the stream ends; returns their uids and the last id seen. */
async function changes(stream: Stream, count = Number.POSITIVE_INFINITY): Promise<{ uids: number[]; lastId: string | null; ended: boolean }> {
  const uids: number[] = [];
  let lastId: string | null = null;
  while (uids.length < count) {
    const event = await stream.next();
    if (event === null) return { uids, lastId, ended: true };
    if (event.id !== null) lastId = event.id;
    if (event.event === "change") uids.push((JSON.parse(event.data) as { order: { uid: number } }).order.uid);
  }
  return { uids, lastId, ended: false };
}

describe("the event stream", () => {
  it("gives every event an id, the greeting included, and replays what a returning client missed", async () => {
    const { sandbox, url } = await start();
    const first = await connect(url);
    const hello = await first.next();
    expect(hello).toMatchObject({ event: "hello", id: expect.stringMatching(/^[0-9a-f]{8}-\d+$/) });
    const made = burst(sandbox, 5);
    const seen = await changes(first, 2);
    expect(seen.uids).toEqual(made.slice(0, 2));
    await first.close();

    const again = await connect(url, seen.lastId!);
    expect((await again.next())!.event).toBe("hello");
    expect((await changes(again, 3)).uids).toEqual(made.slice(2));
    await again.close();
  });

  it("drops a client that falls more than 1024 events behind, which then resumes with Last-Event-ID and misses nothing", async () => {
    const { sandbox, url } = await start();
    const slow = await connect(url);
    const hello = await slow.next();
    // 1,100 changes in one burst, while the client reads nothing.
    const made = burst(sandbox, 1100);
    const before = await changes(slow);
    expect(before.ended).toBe(true);
    expect(before.uids.length).toBeLessThan(1100);
    const back = await connect(url, before.lastId ?? hello!.id!);
    expect((await back.next())!.event).toBe("hello");
    const after = await changes(back, 1100 - before.uids.length);
    expect([...before.uids, ...after.uids]).toEqual(made);
    await back.close();
  });

  it("keeps a client that keeps up", async () => {
    const { sandbox, url } = await start();
    const reader = await connect(url);
    await reader.next();
    const made: number[] = [];
    for (let round = 0; round < 3; round++) {
      made.push(...burst(sandbox, 500));
      expect((await changes(reader, 500)).uids).toEqual(made.slice(-500));
    }
    await reader.close();
  });

  it("lets go of what came before a reset: a connected client gets the reset, one coming back from before it resyncs", async () => {
    const { sandbox, url } = await start();
    const client = await connect(url);
    const hello = await client.next();
    burst(sandbox, 3);
    sandbox.store.reset();
    // The three orders made before the reset are skipped: it wipes them anyway.
    expect(JSON.parse((await client.next())!.data)).toEqual({ kind: "reset" });
    await client.close();
    const late = await connect(url, hello!.id!);
    await late.next();
    expect((await late.next())!.event).toBe("resync");
    await late.close();
  });

  it.each([
    ["an id from before a restart", "0badc0de-5", "the sandbox restarted since that event"],
    ["an id not yet given", "SAME-999999", "no such event"],
    ["an id of another shape", "yesterday", "the sandbox restarted since that event"],
  ])("tells a client that sends %s to resync", async (_name, lastId, reason) => {
    const { url } = await start();
    const probe = await connect(url);
    const epoch = (await probe.next())!.id!.split("-")[0]!;
    await probe.close();
    const client = await connect(url, lastId.replace("SAME", epoch));
    expect((await client.next())!.event).toBe("hello");
    expect(await client.next()).toMatchObject({ event: "resync", data: JSON.stringify({ reason }) });
    await client.close();
  });
});
