// The line a failed delivery's record gets for each kind of network, TLS or HTTP failure.

import { describe, expect, it } from "vitest";
import { describeNetworkError } from "../sandbox/ipn/index.js";

const failure = (fields: Record<string, unknown>, message = "boom") => Object.assign(new Error(message), fields);

describe("describeNetworkError", () => {
  it.each<[string, unknown, string]>([
    ["a refused connection", failure({ code: "ECONNREFUSED", address: "127.0.0.1", port: 9 }), "connection refused (ECONNREFUSED 127.0.0.1:9)"],
    ["an IPv6 address", failure({ code: "ECONNREFUSED", address: "::1", port: 9 }), "connection refused (ECONNREFUSED [::1]:9)"],
    ["an unknown host", failure({ code: "ENOTFOUND", hostname: "shop.invalid" }), "host not found (ENOTFOUND shop.invalid)"],
    ["a reset", failure({ code: "ECONNRESET" }), "connection reset (ECONNRESET)"],
    [
      "happy eyeballs trying two addresses",
      Object.assign(new AggregateError([failure({ code: "ECONNREFUSED", address: "::1", port: 80 }), failure({ code: "ECONNREFUSED", address: "127.0.0.1", port: 80 })]), { code: "ECONNREFUSED" }),
      "connection refused (ECONNREFUSED [::1]:80)",
    ],
    ["a connection closed mid-answer (undici)", failure({ code: "UND_ERR_SOCKET" }, "other side closed"), "the connection closed before the answer was complete"],
    ["a connect timeout (undici)", failure({ code: "UND_ERR_CONNECT_TIMEOUT" }), "connection timed out (UND_ERR_CONNECT_TIMEOUT)"],
    ["a self-signed certificate", failure({ code: "DEPTH_ZERO_SELF_SIGNED_CERT" }), "TLS certificate rejected (DEPTH_ZERO_SELF_SIGNED_CERT)"],
    ["an answer that is not HTTP", failure({ code: "HPE_INVALID_CONSTANT" }), "invalid HTTP answer (HPE_INVALID_CONSTANT)"],
    ["an unknown code", failure({ code: "EWEIRD" }, "something odd"), "something odd (EWEIRD)"],
    ["an error without a code", new Error("kaput"), "kaput"],
    ["a thrown string", "plain text", "plain text"],
    ["a very long message", new Error("x".repeat(500)), `${"x".repeat(199)}…`],
  ])("says %s plainly", (_name, error, expected) => {
    expect(describeNetworkError(error)).toBe(expected);
  });
});
