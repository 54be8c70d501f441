// A reference merchant IPN handler for tests: verifies each IPN like a careful merchant and answers accordingly.

import { decodeIpnBody, verifyIpnHash, type IpnFields } from "../../sandbox/index.js";
import { startSink, type ReceivedRequest, type Sink } from "./sink.js";

export interface VerifiedIpn {
  request: ReceivedRequest;
  /** The decoded fields, or null when the body could not be decoded. */
  fields: IpnFields | null;
  valid: boolean;
}

export interface Merchant extends Sink {
  /** Every IPN that arrived, with the verdict given. */
  verdicts: VerifiedIpn[];
}

/** 200 for a correctly signed IPN, 400 for a body it cannot read, 403 for a bad or missing hash. */
export async function startMerchant(secret: string, hashField = "hash"): Promise<Merchant> {
  const verdicts: VerifiedIpn[] = [];
  const sink = await startSink((req, res) => {
    let fields: IpnFields | null = null;
    let hash: string | null = null;
    try {
      ({ fields, hash } = decodeIpnBody(req.body, hashField));
    } catch {
      verdicts.push({ request: req, fields: null, valid: false });
      res.writeHead(400).end("malformed");
      return;
    }
    const valid = hash !== null && verifyIpnHash(fields, secret, hash);
    verdicts.push({ request: req, fields, valid });
    res.writeHead(valid ? 200 : 403).end(valid ? "OK" : "bad hash");
  });
  return Object.assign(sink, { verdicts });
}
