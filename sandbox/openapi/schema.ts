// Small builders for the OpenAPI description's JSON Schemas, typed so that a shape's keys follow its TypeScript type.

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it), as plain data. */
export type Schema = { [keyword: string]: unknown };

/** One schema per key of T: a key T gains or loses fails to compile until the description follows. */
export type PropsOf<T> = { [K in keyof T]-?: Schema };

export interface ObjectOptions<T> {
  /** Keys that may be absent; every other key is required. */
  optional?: readonly (keyof T)[];
  description?: string;
}

/** An object schema with exactly T's keys, all required but `optional`. */
export function object<T>(properties: PropsOf<T>, options: ObjectOptions<T> = {}): Schema {
  const optional = new Set<PropertyKey>(options.optional ?? []);
  return {
    type: "object",
    ...(options.description === undefined ? {} : { description: options.description }),
    properties,
    required: Object.keys(properties).filter((key) => !optional.has(key)),
  };
}

/** A reference to a schema of `components.schemas`. */
export function ref(name: string, description?: string): Schema {
  // OpenAPI 3.1 lets a $ref stand beside other keywords, so a property can say what it means in its place.
  return { $ref: `#/components/schemas/${name}`, ...(description === undefined ? {} : { description }) };
}

/** The same schema, or null. */
export function nullable(schema: Schema): Schema {
  if (typeof schema.type === "string") {
    return { ...schema, type: [schema.type, "null"], ...(Array.isArray(schema.enum) ? { enum: [...schema.enum, null] } : {}) };
  }
  const { description, ...rest } = schema;
  return { ...(description === undefined ? {} : { description }), oneOf: [rest, { type: "null" }] };
}

export const string = (extra: Schema = {}): Schema => ({ type: "string", ...extra });
export const integer = (extra: Schema = {}): Schema => ({ type: "integer", ...extra });
export const number = (extra: Schema = {}): Schema => ({ type: "number", ...extra });
export const boolean = (extra: Schema = {}): Schema => ({ type: "boolean", ...extra });
export const array = (items: Schema, extra: Schema = {}): Schema => ({ type: "array", items, ...extra });

/** A string matching `pattern` (a RegExp's source, which JSON Schema's ECMA-262 patterns read alike). */
export const matching = (pattern: RegExp, extra: Schema = {}): Schema => string({ pattern: pattern.source, ...extra });

/** A string of `length` characters drawn from `alphabet`, as a pattern: "ABC…Z0…9" → ^[A-Z0-9]{11}$. */
export function drawnFrom(alphabet: string, length: number | string): string {
  return `^[${characterClass(alphabet)}]{${length}}$`;
}

/** The characters of `alphabet` as the inside of a character class, runs written as ranges. */
export function characterClass(alphabet: string): string {
  const codes = [...new Set([...alphabet].map((c) => c.charCodeAt(0)))].sort((a, b) => a - b);
  const escape = (code: number) => {
    const c = String.fromCharCode(code);
    return /[\\\]^-]/.test(c) ? `\\${c}` : c;
  };
  let out = "";
  for (let i = 0; i < codes.length; ) {
    let j = i;
    while (j + 1 < codes.length && codes[j + 1] === codes[j]! + 1) j++;
    out += j - i >= 2 ? `${escape(codes[i]!)}-${escape(codes[j]!)}` : codes.slice(i, j + 1).map(escape).join("");
    i = j + 1;
  }
  return out;
}

/** A Markdown table from a header and rows, for descriptions. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
