// Finds scenarios by name in the built-in library or loads them from TypeScript, JavaScript, JSON or YAML files.

import { readFile } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { importOptional } from "../sandbox/index.js";
import { BUILTIN_SCENARIOS, findBuiltinScenario } from "./library.js";
import { parseScenario, ScenarioError, type Scenario } from "./model.js";

const TYPESCRIPT_EXTENSIONS = [".ts", ".mts", ".cts"];
const CODE_EXTENSIONS = [...TYPESCRIPT_EXTENSIONS, ".js", ".mjs", ".cjs"];
const DATA_EXTENSIONS = [".json", ".yaml", ".yml"];

/** True when the argument names a file rather than a built-in scenario. */
export function looksLikePath(arg: string): boolean {
  return arg.includes("/") || arg.includes("\\") || [...CODE_EXTENSIONS, ...DATA_EXTENSIONS].includes(extname(arg).toLowerCase());
}

/** Loads every scenario a file holds: a TS/JS module's default export (one scenario or a list), or JSON/YAML data. */
export async function loadScenarioFile(path: string): Promise<Scenario[]> {
  const ext = extname(path).toLowerCase();
  let data: unknown;
  if (CODE_EXTENSIONS.includes(ext)) {
    let module: Record<string, unknown>;
    const tsx = await loadTsx();
    if (!tsx && TYPESCRIPT_EXTENSIONS.includes(ext)) {
      throw new ScenarioError(`scenario ${path}: TypeScript scenario files need tsx, which is not installed: npm install --save-dev tsx (or write the scenario as .js, .json or .yaml)`);
    }
    try {
      const url = pathToFileURL(resolve(path)).href;
      // tsx compiles TypeScript on the fly, so a user's scenario file needs no build step; it also lets a .js file
      // use ESM syntax where Node 20 would take it for CommonJS. Without tsx, Node loads JavaScript itself.
      module = (tsx ? await tsx.tsImport(url, import.meta.url) : await import(url)) as Record<string, unknown>;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ERR_MODULE_NOT_FOUND" && String((error as Error).message).includes(resolve(path))) {
        throw new ScenarioError(`scenario ${path}: file not found`);
      }
      throw new ScenarioError(`scenario ${path}: could not be loaded: ${(error as Error).message.split("\n")[0]}`);
    }
    // Outside an ESM package a file loads as CommonJS, and `default` is then the whole exports object.
    const exported = isCommonJsNamespace(module) ? (module.default as Record<string, unknown>) : module;
    data = exported.default ?? exported.scenario ?? exported.scenarios;
    if (data === undefined) throw new ScenarioError(`scenario ${path}: export the scenario as default (export default defineScenario({...}))`);
  } else if (DATA_EXTENSIONS.includes(ext)) {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ScenarioError(`scenario ${path}: ${code === "ENOENT" ? "file not found" : `cannot read the file: ${(error as Error).message}`}`);
    }
    try {
      // yaml is imported only when a YAML file comes: at the top it would add about 60 ms to every sandbox start.
      data = ext === ".json" ? JSON.parse(text) : (await import("yaml")).parse(text);
    } catch (error) {
      throw new ScenarioError(`scenario ${path}: not valid ${ext === ".json" ? "JSON" : "YAML"}: ${(error as Error).message.split("\n")[0]}`);
    }
  } else {
    throw new ScenarioError(`scenario ${path}: unsupported file type; use .ts, .js, .json, .yaml or .yml`);
  }
  const list = Array.isArray(data) ? data : [data];
  if (list.length === 0) throw new ScenarioError(`scenario ${path}: the file holds no scenario`);
  return list.map((item, i) => parseScenario(item, list.length > 1 ? `${path}[${i}]` : path));
}

/** Resolves command-line arguments (built-in names or file paths) into scenarios, in order. */
export async function resolveScenarios(args: readonly string[]): Promise<Scenario[]> {
  const out: Scenario[] = [];
  for (const arg of args) {
    if (looksLikePath(arg)) {
      out.push(...(await loadScenarioFile(arg)));
      continue;
    }
    const builtin = findBuiltinScenario(arg);
    if (!builtin) {
      throw new ScenarioError(`unknown scenario ${JSON.stringify(arg)}; the built-in ones are ${BUILTIN_SCENARIOS.map((s) => s.name).join(", ")} (or give a file path)`);
    }
    out.push(builtin);
  }
  return out;
}

function isCommonJsNamespace(module: Record<string, unknown>): boolean {
  const inner = module.default;
  if (typeof inner !== "object" || inner === null || Array.isArray(inner)) return false;
  // A CommonJS namespace repeats every named export inside `default`; a real default export is the scenario itself.
  const names = Object.keys(module).filter((k) => k !== "default");
  return "default" in inner || (names.length > 0 && names.every((k) => k in inner)) || !("name" in inner);
}

/**
 * tsx's loader, or null when it is not installed: tsx (with esbuild, 12 MB) is an optional peer dependency that
 * only TypeScript scenario files need. Any other failure to load it is a real error and is thrown.
 */
function loadTsx(): Promise<typeof import("tsx/esm/api") | null> {
  return importOptional("tsx", () => import("tsx/esm/api"));
}
