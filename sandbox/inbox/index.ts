// The built-in IPN inbox: a merchant endpoint inside the sandbox that answers 200 to any IPN, checks its checksum with
// the order's ipnSecret on its own, and lists what came with its verdict.

import { Hono, type Context } from "hono";
import type { Clock } from "../clock/index.js";
import type { Store } from "../store/index.js";
import { checksumFieldProblems, checksumMatches, decodeFormStrictly, docsChecksum } from "./verify.js";

export { InboxPanel } from "./panel.js";

/** What the inbox made of an IPN. */
export const INBOX_VERDICTS = ["valid", "badHash", "missingHash", "unknownOrder", "malformed"] as const;
export type InboxVerdict = (typeof INBOX_VERDICTS)[number];

export interface InboxEntry {
  /** 1, 2, … within its inbox. */
  id: number;
  /** Sandbox-clock ms. */
  receivedAt: number;
  /** The fields as received (null when the body did not carry them readably). */
  orderUID: string | null;
  newStatus: string | null;
  timestamp: string | null;
  verdict: InboxVerdict;
  /** Why, in a sentence. */
  detail: string;
  /** The body as received (its first MAX_KEPT_BODY characters, then "…"). */
  body: string;
}

/** An inbox name: what goes in /_sandbox/inbox/{name}. */
export const INBOX_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Bounds, so that a stranger posting to a shared sandbox's inboxes cannot fill its memory. */
export const MAX_INBOXES = 100;
export const MAX_ENTRIES_PER_INBOX = 1000;
/** Across all inboxes: with the kept body's bound, about 40 MB at most, whatever strangers post. */
export const MAX_ENTRIES = 10_000;
/** An IPN body is a few hundred characters; more is kept only as far as this. */
export const MAX_KEPT_BODY = 4096;

export interface InboxDeps {
  store: Store;
  clock: Clock;
  /** The IPN checksum's field name (the sandbox's ipnHashField). */
  hashField: string;
}

export interface Inbox {
  /** Judges and keeps one received body; returns the entry. */
  receive(name: string, body: string): InboxEntry;
  /** What an inbox received, oldest first; empty for an inbox that received nothing. */
  list(name: string): InboxEntry[];
  /** Every inbox that received something, with its entries, in the order they were first used. */
  all(): { name: string; entries: InboxEntry[]; dropped: number }[];
  /** `POST /_sandbox/inbox/:name`: mount it before the admin-token guard, since the sandbox's own IPNs carry no token. */
  post(c: Context): Promise<Response>;
  /** The reading routes (`GET /inbox`, `GET /inbox/:name`): mount under CONTROL_BASE_PATH. */
  routes: Hono;
}

export function createInbox(deps: InboxDeps): Inbox {
  const { store, clock, hashField } = deps;
  type Box = { entries: InboxEntry[]; next: number; dropped: number };
  const boxes = new Map<string, Box>();
  /** Entries held in all inboxes together. */
  let total = 0;
  const dropOldest = (box: Box) => {
    box.entries.shift();
    box.dropped++;
    total--;
  };
  // The orders they judged are gone with a reset, so their verdicts go too.
  store.subscribe((change) => {
    if (change.kind === "reset") {
      boxes.clear();
      total = 0;
    }
  });

  const judge = (body: string): Omit<InboxEntry, "id" | "receivedAt" | "body"> => {
    const decoded = decodeFormStrictly(body);
    if (!decoded.ok) return { orderUID: null, newStatus: null, timestamp: null, verdict: "malformed", detail: `not valid form encoding: ${decoded.reason}` };
    const one = (name: string) => decoded.fields.get(name)?.[0] ?? null;
    const seen = { orderUID: one("orderUID"), newStatus: one("newStatus"), timestamp: one("timestamp") };
    const problems = checksumFieldProblems(decoded.fields);
    if (problems.length > 0) return { ...seen, verdict: "malformed", detail: `not an IPN the checksum can cover: ${problems.join(", ")}` };
    const given = decoded.fields.get(hashField);
    if (given === undefined) return { ...seen, verdict: "missingHash", detail: `no ${hashField} field: nothing proves the exchanger sent it` };
    const uid = /^[1-9]\d{0,15}$/.test(seen.orderUID ?? "") ? Number(seen.orderUID) : Number.NaN;
    const order = Number.isSafeInteger(uid) ? store.getOrder(uid) : undefined;
    if (!order || order.ipnSecret === null) {
      return { ...seen, verdict: "unknownOrder", detail: `no order ${JSON.stringify(seen.orderUID)} with an ipnSecret in this sandbox, so no secret to check the ${hashField} with` };
    }
    const field = (name: string) => decoded.fields.get(name)![0]!;
    const matches = given.length === 1 && checksumMatches(given[0]!, docsChecksum(field, order.ipnSecret));
    const orderId = field("orderId");
    if (!matches) {
      const why = given.length > 1 ? `${hashField} given ${given.length} times` : `${hashField} is not sha256(orderId:newStatus:inAmount:outAmount:xml_from:xml_to:timestamp:ipnSecret) of these fields with order ${order.uid}'s ipnSecret`;
      return { ...seen, verdict: "badHash", detail: why + (orderId === order._id ? "" : `; and orderId ${orderId} is not order ${order.uid}'s (${order._id})`) };
    }
    if (orderId !== order._id) return { ...seen, verdict: "unknownOrder", detail: `orderId ${orderId} is not order ${order.uid}'s (${order._id})` };
    return { ...seen, verdict: "valid", detail: `${hashField} matches, with order ${order.uid}'s ipnSecret` };
  };

  const inbox: Inbox = {
    receive(name, body) {
      let box = boxes.get(name);
      if (!box) {
        // The oldest inbox makes way for a new one: the bound is on memory, not on how many names a run uses.
        if (boxes.size >= MAX_INBOXES) {
          const [oldest, gone] = boxes.entries().next().value!;
          total -= gone.entries.length;
          boxes.delete(oldest);
        }
        box = { entries: [], next: 1, dropped: 0 };
        boxes.set(name, box);
      } else {
        // Most recently used last: the bounds take from the inboxes used least recently.
        boxes.delete(name);
        boxes.set(name, box);
      }
      const kept = body.length > MAX_KEPT_BODY ? `${body.slice(0, MAX_KEPT_BODY)}…` : body;
      const entry: InboxEntry = { id: box.next++, receivedAt: clock.now(), ...judge(body), body: kept };
      box.entries.push(entry);
      total++;
      if (box.entries.length > MAX_ENTRIES_PER_INBOX) dropOldest(box);
      // Over the whole bound, the inbox used least recently first gives up its oldest IPN.
      for (const other of boxes.values()) {
        if (total <= MAX_ENTRIES) break;
        while (total > MAX_ENTRIES && other.entries.length > 0 && other !== box) dropOldest(other);
      }
      return entry;
    },
    list: (name) => [...(boxes.get(name)?.entries ?? [])],
    all: () => [...boxes].map(([name, box]) => ({ name, entries: [...box.entries], dropped: box.dropped })),
    async post(c) {
      const name = c.req.param("name") ?? "";
      if (!INBOX_NAME.test(name)) return c.json(badName(name), 404);
      inbox.receive(name, await c.req.text());
      // Any IPN gets 200, as a merchant that has read it should answer: the verdict is in the listing.
      return c.text("OK", 200);
    },
    routes: new Hono(),
  };

  inbox.routes.get("/inbox", (c) => c.json({ inboxes: inbox.all().map(({ name, entries, dropped }) => ({ name, received: entries.length + dropped })) }));
  inbox.routes.get("/inbox/:name", (c) => {
    const name = c.req.param("name");
    if (!INBOX_NAME.test(name)) return c.json(badName(name), 404);
    const box = boxes.get(name);
    return c.json({ inbox: name, received: box?.entries ?? [], ...(box && box.dropped > 0 ? { dropped: box.dropped } : {}) });
  });
  return inbox;
}

function badName(name: string) {
  return { error: { type: "not_found", message: `No inbox ${JSON.stringify(name)}: an inbox name is 1 to 64 letters, digits, - or _` } };
}
