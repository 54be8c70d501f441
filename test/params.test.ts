// Reading API parameters: PHP-style bracket keys, JSON bodies, and everything that must be refused.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBracketEntries, parseBracketKey, parseJsonParams, queryEntries, readQueryParams } from "../sandbox/api/params.js";
import { ApiError } from "../sandbox/errors.js";

const form = (text: string) => decodeBracketEntries(new URLSearchParams(text).entries());

function refusal(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected the input to be refused");
}

describe("bracket keys", () => {
  it("splits a key into its name and segments", () => {
    expect(parseBracketKey("toValues[0][key]")).toEqual(["toValues", "0", "key"]);
    expect(parseBracketKey("amount")).toEqual(["amount"]);
    expect(parseBracketKey("list[]")).toEqual(["list", ""]);
  });

  it("decodes the docs' PHP-style lists into arrays of objects", () => {
    expect(form("routeId=abc&toValues[0][key]=k1&toValues[0][value]=v1&toValues[1][key]=k2&toValues[1][value]=v2")).toEqual({
      routeId: "abc",
      toValues: [
        { key: "k1", value: "v1" },
        { key: "k2", value: "v2" },
      ],
    });
  });

  it("decodes percent-encoded brackets as URLSearchParams sends them", () => {
    expect(form(new URLSearchParams({ "fromValues[0][key]": "a", "fromValues[0][value]": "b&c=d" }).toString())).toEqual({
      fromValues: [{ key: "a", value: "b&c=d" }],
    });
  });

  it("keeps list order by index even when indexes arrive out of order or with gaps", () => {
    expect(form("v[3][key]=c&v[0][key]=a&v[1][key]=b")).toEqual({ v: [{ key: "a" }, { key: "b" }, { key: "c" }] });
  });

  it("appends with empty brackets", () => {
    expect(form("tags[]=a&tags[]=b")).toEqual({ tags: ["a", "b"] });
  });

  it("keeps unicode values intact", () => {
    expect(form(new URLSearchParams({ name: "Іван Петренко ✓" }).toString())).toEqual({ name: "Іван Петренко ✓" });
  });

  it.each([
    ["__proto__[polluted]=1", "forbidden key __proto__"],
    ["a[__proto__][x]=1", "forbidden key __proto__"],
    ["constructor[prototype][x]=1", "forbidden key constructor"],
    ["a[prototype]=1", "forbidden key prototype"],
    ["v[100][key]=1", "index 100"],
    ["v[99999999999999999999][key]=1", "index 99999999999999999999"],
    ["a[b][c][d][e][f]=1", "nested 5 levels"],
    ["amount=1&amount=2", "given twice"],
    ["a=1&a[0]=2", "both as a value and as a list"],
    ["a[0]=1&a=2", "both as a value and as a list"],
    ["a[0]=1&a[x]=2", "mixes list indexes and names"],
    ["a]b=1", "not of the form"],
    ["a[b=1", "not of the form"],
  ])("refuses %s", (text, message) => {
    const error = refusal(() => form(text));
    expect(error.code).toBe("malformedBody");
    expect(error.message).toContain(message);
  });

  it("refuses more fields than the limit", () => {
    const text = Array.from({ length: 1001 }, (_, i) => `f${i}=1`).join("&");
    expect(refusal(() => form(text)).message).toContain("Too many fields");
  });

  it("leaves Object.prototype untouched after hostile keys", () => {
    for (const text of ["__proto__[polluted]=1", "constructor[prototype][polluted]=1"]) {
      try {
        form(text);
      } catch {
        // refused, as the case above checks
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("JSON bodies", () => {
  it("reads an object of parameters", () => {
    expect(parseJsonParams('{"amount":"2","toValues":[{"key":"k","value":"v"}]}')).toEqual({ amount: "2", toValues: [{ key: "k", value: "v" }] });
  });

  it("reads an empty body as no parameters", () => {
    expect(parseJsonParams("  ")).toEqual({});
  });

  it.each([
    ['{"amount":', "not valid JSON"],
    ["[1,2]", "must be an object of parameters, got an array"],
    ["null", "got null"],
    ['"text"', "got string"],
    ['{"__proto__":{"polluted":1}}', "forbidden key __proto__"],
    ['{"a":{"constructor":{"prototype":{"x":1}}}}', "forbidden key"],
    [`{"a":${"[".repeat(40)}${"]".repeat(40)}}`, "nested more than 16 levels"],
  ])("refuses %s", (text, message) => {
    const error = refusal(() => parseJsonParams(text));
    expect(error.code).toBe("malformedBody");
    expect(error.message).toContain(message);
  });
});

describe("query strings", () => {
  it("are split and decoded exactly as URLSearchParams does it, for any text", () => {
    // Characters chosen to hit every branch: separators, plus signs, escapes good and broken, multi-byte UTF-8.
    const piece = fc.constantFrom("a", "Z", "0", "&", "=", "+", "%", "%2", "%41", "%2B", "%zz", "%C3%A9", "%E2%82", "%FF", "é", " ", "[", "]", "[]");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
        const query = pieces.join("");
        expect(queryEntries(query)).toEqual([...new URLSearchParams(query).entries()]);
      }),
      { numRuns: 2000 },
    );
  });

  it("read into the same parameters, or the same refusal, as the full decoder gives, for any text", () => {
    const piece = fc.constantFrom("a", "b", "0", "&", "=", "+", "%41", "%zz", "[", "]", "[]", "[0]", "__proto__", "constructor", "é");
    const outcome = (read: () => unknown) => {
      try {
        return { params: read() };
      } catch (error) {
        return { refused: error instanceof ApiError ? error.message : String(error) };
      }
    };
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), (pieces) => {
        const query = pieces.join("");
        const fast = outcome(() => readQueryParams(`http://x/p?${query}`).params);
        const full = outcome(() => decodeBracketEntries(new URLSearchParams(query).entries()));
        expect(fast).toEqual(full);
      }),
      { numRuns: 3000 },
    );
  });

  it("keep the order of their pairs and their empty values", () => {
    expect(queryEntries("b=2&a&&c=x%20y+z&=v")).toEqual([["b", "2"], ["a", ""], ["c", "x y z"], ["", "v"]]);
  });
});
