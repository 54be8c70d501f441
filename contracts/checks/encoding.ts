// The encoding contract: a body the exchanger would never send gets a 4xx, never a 5xx or a broken connection.

import { encodeIpnBody, ipnFieldsFor, IPN_HASH_FIELDS_ORDER, signIpn } from "../../sandbox/index.js";
import { describe, type Sent } from "../answers.js";
import { begin, defineChecks, fire, freshOrder, probe, verdictOf, type Context, type ContractModule } from "../context.js";
import type { CheckResult } from "../model.js";

const PARSE =
  "Parse the body defensively: a body you cannot decode, one missing a signed field, one with a field twice or in another encoding gets a 400 (or the 403 of a hash that does not match), never a crash.";

export const ENCODING = defineChecks("encoding", {
  "malformed-body": { title: "a body that is not valid form encoding gets a 4xx, not a 5xx", required: true, hint: PARSE },
  "missing-field": { title: "an IPN missing one signed field (each in turn) gets a 4xx, not a 5xx", required: true, hint: PARSE },
  "no-signed-fields": { title: "an IPN with none of the signed fields gets a 4xx, not a 5xx", required: true, hint: PARSE },
  "empty-body": { title: "an empty body gets a 4xx, not a 5xx", required: true, hint: PARSE },
  "json-body": { title: "a JSON body (Content-Type: application/json) gets a 4xx, not a 5xx", required: true, hint: PARSE },
  "duplicate-field": { title: "an IPN with a field sent twice gets a 4xx, not a 5xx", required: true, hint: PARSE },
  "non-utf8": { title: "a body with a byte that is not UTF-8 gets a 4xx, not a 5xx", required: true, hint: PARSE },
});

/** A secret no merchant has: bodies signed with it must be refused however they are read. */
const FOREIGN_SECRET_SUFFIX = "-not-the-ipn-secret";

async function run(ctx: Context): Promise<CheckResult[]> {
  const order = await freshOrder(ctx);
  const { ipnHashField: hashField, ipnSecret } = ctx.options;
  const fields = ipnFieldsFor({ ...order, status: "done" }, Date.now());
  const body = encodeIpnBody(fields, hashField, signIpn(fields, ipnSecret).hash);
  const foreignHash = signIpn(fields, ipnSecret + FOREIGN_SECRET_SUFFIX).hash;
  const without = (names: readonly string[]) => body.split("&").filter((pair) => !names.some((name) => pair.startsWith(`${name}=`))).join("&");

  const probes: [keyof typeof ENCODING, () => Promise<Sent[]>][] = [
    ["malformed-body", () => fire(ctx, order, "done", "malformedBody")],
    ["missing-field", async () => {
      const out: Sent[] = [];
      for (const name of IPN_HASH_FIELDS_ORDER) out.push(await probe(ctx, "done", `the body without ${name}`, without([name])));
      return out;
    }],
    ["no-signed-fields", async () => [await probe(ctx, "done", `the body without ${IPN_HASH_FIELDS_ORDER.join(", ")}`, without(IPN_HASH_FIELDS_ORDER))]],
    ["empty-body", async () => [await probe(ctx, "(none)", "an empty body", "")]],
    ["json-body", async () => {
      const json = JSON.stringify({ ...fields, [hashField]: foreignHash });
      return [await probe(ctx, "done", "the fields as JSON, Content-Type: application/json, signed with another secret", json, "application/json")];
    }],
    ["duplicate-field", async () => {
      const twice = `${encodeIpnBody(fields, hashField, foreignHash)}&newStatus=inProgress`;
      return [await probe(ctx, "done", "newStatus sent twice (done, then inProgress), signed with another secret", twice)];
    }],
    ["non-utf8", async () => {
      // A raw 0xFF byte after xml_to's value: whatever a decoder makes of it, the signed xml_to no longer matches.
      const at = body.indexOf("&", body.indexOf("&xml_to=") + 1);
      const bytes = Uint8Array.from([...Buffer.from(body.slice(0, at)), 0xff, ...Buffer.from(body.slice(at))]);
      return [await probe(ctx, "done", "a raw 0xFF byte (not UTF-8) at the end of xml_to", bytes)];
    }],
  ];

  const out: CheckResult[] = [];
  for (const [name, send] of probes) {
    const c = begin(ENCODING[name]);
    const sent = await send();
    const evidence = sent.map(describe);
    out.push(c.answers(verdictOf(ctx, sent, "refused"), evidence) ?? c.pass(evidence));
  }
  return out;
}

export const encoding: ContractModule = { group: "encoding", checks: Object.values(ENCODING), run };
