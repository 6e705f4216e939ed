import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OPERATIONS } from "../../api/operations.ts";

/*
 * Rules of the layout that no type checker sees: the layers the issue split stay small, a route
 * is written once (in its descriptor under api/), and the domain keeps off the filesystem.
 */

const ROOT = join(import.meta.dirname, "../..");
const SOURCE_FOLDERS = [
  "api",
  "domain",
  "adapters",
  "lambdas",
  "lib",
  "runtime",
  "client",
  "cli",
  "demo",
  "bench",
  "agent",
];
const CODE = /\.(?:ts|mts|cts|js|mjs|cjs)$/;
const MAX_LINES = 500;
const SIZE_LIMITED = ["api/", "cli/", "domain/"];
/** Generated (`npm run openapi`), not written. */
const GENERATED = new Set(["api/openapi.json"]);

/** Every file under the source folders, as a path from the project's root. */
function sourceFiles(): string[] {
  const walk = (folder: string): string[] =>
    readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
      const path = `${folder}/${entry.name}`;
      if (entry.isDirectory()) return entry.name === "node_modules" ? [] : walk(path);
      return entry.isFile() ? [path] : [];
    });
  return SOURCE_FOLDERS.flatMap(walk).sort();
}

function lineCount(text: string): number {
  const newlines = text.split("\n").length - 1;
  return text.length === 0 || text.endsWith("\n") ? newlines : newlines + 1;
}

/** A string or template literal of a source file; each `${…}` of a template stands as {@link HOLE}. */
interface Literal {
  readonly text: string;
  readonly line: number;
}

/** What a template's `${…}` expression is replaced with: it may stand for any path segment. */
const HOLE = "\u0000";

/**
 * Reads a source file's code: its string and template literals (those inside `${…}` too), and
 * the code with every `//` and `/* *\/` comment blanked (newlines kept). A regular-expression
 * literal is skipped whole, so a quote inside one starts no string.
 */
function scanSource(source: string): { literals: Literal[]; code: string } {
  const literals: Literal[] = [];
  const code: string[] = [];
  let index = 0;
  let line = 1;
  /** Whether a `/` here starts a regular expression rather than a division: by the code before it. */
  const regularExpressionMayStart = () => {
    let at = code.length - 1;
    while (at >= 0 && /\s/.test(code[at] as string)) at--;
    if (at < 0 || !/[\w$)\]]/.test(code[at] as string)) return true;
    let word = "";
    while (at >= 0 && /[\w$]/.test(code[at] as string)) word = code[at--] + word;
    return /^(?:return|typeof|case|in|of|void|throw|yield|await|delete|instanceof|else|do)$/.test(word);
  };

  const take = (count: number, keep = true) => {
    for (const character of source.slice(index, index + count)) {
      if (character === "\n") line++;
      code.push(keep || character === "\n" ? character : " ");
    }
    index += count;
  };
  const quoted = (quote: string) => {
    const start = line;
    let text = "";
    take(1);
    while (index < source.length && source[index] !== quote && source[index] !== "\n") {
      if (source[index] === "\\") {
        text += source[index + 1] ?? "";
        take(2);
      } else {
        text += source[index];
        take(1);
      }
    }
    take(1);
    literals.push({ text, line: start });
  };
  const template = () => {
    const start = line;
    let text = "";
    take(1);
    while (index < source.length && source[index] !== "`") {
      if (source[index] === "\\") {
        text += source[index + 1] ?? "";
        take(2);
      } else if (source.startsWith("${", index)) {
        take(2);
        code_(true);
        take(1);
        text += HOLE;
      } else {
        text += source[index];
        take(1);
      }
    }
    take(1);
    literals.push({ text, line: start });
  };
  const regularExpression = () => {
    take(1);
    let inClass = false;
    while (index < source.length && source[index] !== "\n") {
      const character = source[index];
      if (character === "\\") take(2);
      else {
        take(1);
        if (character === "[") inClass = true;
        else if (character === "]") inClass = false;
        else if (character === "/" && !inClass) break;
      }
    }
  };
  /** Code up to the end, or (inside `${…}`) up to its closing brace, which is left unread. */
  const code_ = (inTemplate: boolean) => {
    let depth = 0;
    while (index < source.length) {
      const character = source[index] as string;
      if (inTemplate && character === "}" && depth === 0) return;
      if (source.startsWith("//", index)) {
        const end = source.indexOf("\n", index);
        take((end === -1 ? source.length : end) - index, false);
        continue;
      }
      if (source.startsWith("/*", index)) {
        const end = source.indexOf("*/", index + 2);
        take((end === -1 ? source.length : end + 2) - index, false);
        continue;
      }
      if (character === '"' || character === "'") quoted(character);
      else if (character === "`") template();
      else if (character === "/" && regularExpressionMayStart()) regularExpression();
      else {
        if (character === "{") depth++;
        if (character === "}") depth--;
        take(1);
      }
    }
  };
  code_(false);
  return { literals, code: code.join("") };
}

/** The API's paths, each as its segments (`{name}` for a parameter). */
const ROUTE_PATHS = [...new Set(OPERATIONS.map((operation) => operation.path))].map((path) => path.split("/").slice(1));

/**
 * The route paths of the API a literal's text contains (`/v1/…`, or `v1/…` after a base URL's
 * hole), each segment a parameter or a hole matching anything. A path named after its method
 * (`POST /v1/deliveries/redrive` in an alarm's description) is prose naming an operation, not
 * a request, and passes.
 */
function routePathsIn(text: string, paths: readonly (readonly string[])[] = ROUTE_PATHS): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?<![\w.-])\/?v1(?:\/[^\s/?#]+)+/g)) {
    if (/\b(?:GET|POST|PUT|PATCH|DELETE) $/.test(text.slice(0, match.index))) continue;
    const segments = match[0].replace(/^\//, "").split("/");
    const matches = (path: readonly string[]) =>
      path.length === segments.length &&
      path.every((segment, at) => {
        const candidate = segments[at] as string;
        return segment.startsWith("{") || candidate.includes(HOLE) || candidate === segment;
      });
    if (paths.some(matches)) found.push(match[0].replaceAll(HOLE, "${…}"));
  }
  return found;
}

/** Where a file imports the filesystem (`fs`, `node:fs`, `fs/promises`), by line. */
function filesystemImports(code: string): number[] {
  return code
    .split("\n")
    .flatMap((text, at) =>
      /(?:\bfrom|\bimport|\brequire)\s*\(?\s*["'](?:node:)?fs(?:\/promises)?["']/.test(text) ? [at + 1] : [],
    );
}

describe("the detectors", () => {
  const paths = [
    ["v1", "audits"],
    ["v1", "audits", "{auditId}"],
    ["v1", "platform", "keys"],
  ];
  const found = (source: string) =>
    scanSource(source).literals.flatMap((literal) =>
      routePathsIn(literal.text, paths).map((path) => `${literal.line}: ${path}`),
    );

  it("finds a route path in a string or a template, parameters as any segment", () => {
    expect(found('const a = "/v1/audits";\nconst b = `/v1/audits/${encodeURIComponent(id)}`;')).toEqual([
      "1: /v1/audits",
      "2: /v1/audits/${…}",
    ]);
    expect(found("fetch(`${base}v1/platform/keys`)")).toEqual(["1: v1/platform/keys"]);
    expect(found('const c = `${f(`x`, { a: "/v1/audits/x" })}`;')).toEqual(["1: /v1/audits/x"]);
  });

  it("passes comments, prose naming an operation, other paths and regular expressions", () => {
    expect(found('// fetch("/v1/audits")\n/* "/v1/audits" */ const a = 1;')).toEqual([]);
    expect(found('const d = "then POST /v1/audits or GET /v1/audits/{auditId}";')).toEqual([]);
    expect(found('const d = "then see /v1/audits";')).toEqual(["1: /v1/audits"]);
    expect(found('const e = ["/v1/unknown", "/v1/audits/a/b", "prime256v1", "https://x/v2/audits"];')).toEqual([]);
    expect(found("const r = /\"[/]/g; const s = x / 2; // '\nconst t = '/v1/audits';")).toEqual(["2: /v1/audits"]);
  });

  it("counts lines as wc -l does, a last line without its newline included", () => {
    expect([lineCount(""), lineCount("a\nb\n"), lineCount("a\nb")]).toEqual([0, 2, 2]);
  });

  it("finds the filesystem imported, not named in a comment", () => {
    const { code } = scanSource(
      'import { join } from "node:path";\nimport { readFile } from "node:fs/promises";\n// import "fs"\nconst fs = await import("fs");',
    );
    expect(filesystemImports(code)).toEqual([2, 4]);
  });
});

describe("the source tree", () => {
  const files = sourceFiles();

  it(`keeps every file under ${SIZE_LIMITED.join(", ")} at ${MAX_LINES} lines or fewer`, () => {
    const long = files
      .filter((file) => SIZE_LIMITED.some((folder) => file.startsWith(folder)) && !GENERATED.has(file))
      .map((file) => ({ file, lines: lineCount(readFileSync(join(ROOT, file), "utf8")) }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it("writes each route path only in its descriptor under api/", () => {
    const written = files
      .filter((file) => CODE.test(file) && !file.startsWith("api/"))
      .flatMap((file) =>
        scanSource(readFileSync(join(ROOT, file), "utf8")).literals.flatMap((literal) =>
          routePathsIn(literal.text).map((path) => `${file}:${literal.line}: ${path}`),
        ),
      );
    expect(written).toEqual([]);
  });

  it("keeps domain/ off the filesystem (no fs import)", () => {
    const imports = files
      .filter((file) => CODE.test(file) && file.startsWith("domain/"))
      .flatMap((file) =>
        filesystemImports(scanSource(readFileSync(join(ROOT, file), "utf8")).code).map((line) => `${file}:${line}`),
      );
    expect(imports).toEqual([]);
  });

  it("walks the source folders", () => {
    expect(files).toEqual(expect.arrayContaining(["api/route.ts", "cli/dscp.ts", "domain/problem.ts", "lib/app.ts"]));
  });
});
