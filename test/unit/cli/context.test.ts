import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError, type Values } from "../../../cli/command.ts";
import { Context } from "../../../cli/context.ts";
import { temporaryDir } from "../../runtime/helpers.ts";

const folder = temporaryDir("cli-context");

/** A context writing into strings, in `folder`, with the global options given. */
function contextWith(values: Values = {}) {
  const written = { out: "", err: "" };
  const context = new Context(
    {
      stdout: (text) => {
        written.out += text;
      },
      stderr: (text) => {
        written.err += text;
      },
      env: {},
      cwd: folder,
    },
    values,
  );
  return { context, written };
}

describe("what a command runs with", () => {
  it("resolves a file the command line names against the working folder", () => {
    writeFileSync(join(folder, "here.json"), "{}");

    expect(contextWith().context.existing("here.json")).toBe(join(folder, "here.json"));
  });

  it("names the missing file or folder in a usage error", () => {
    const { context } = contextWith();

    expect(() => context.existing("absent.ndjson")).toThrow(new UsageError(`no file ${join(folder, "absent.ndjson")}`));
    expect(() => context.existing("absent", "folder")).toThrow(new UsageError(`no folder ${join(folder, "absent")}`));
  });

  it("reads the key set to verify with from a file holding a set or a single key", async () => {
    writeFileSync(join(folder, "set.json"), JSON.stringify({ keys: [{ kty: "OKP", kid: "k1" }] }));
    writeFileSync(join(folder, "one.json"), JSON.stringify({ kty: "OKP", kid: "k2" }));
    const { context } = contextWith();

    expect(await context.verificationKeys("set.json")).toEqual([{ kty: "OKP", kid: "k1" }]);
    expect(await context.verificationKeys("one.json")).toEqual([{ kty: "OKP", kid: "k2" }]);
  });

  it("prints only the id with --quiet, and the whole value otherwise", () => {
    const quiet = contextWith({ quiet: true });
    const loud = contextWith();

    quiet.context.print({ id: "P1", status: "active" });
    loud.context.print({ id: "P1" });

    expect(quiet.written.out).toBe("P1\n");
    expect(loud.written.out).toBe('{\n  "id": "P1"\n}\n');
  });

  it("prints a table on stdout and how many rows, with the next cursor, on stderr", () => {
    const { context, written } = contextWith();

    context.table({ items: [{ id: "A" }, { id: "B" }], nextCursor: "c2" }, ["id"]);

    expect(written.out).toBe("id\nA\nB\n");
    expect(written.err).toBe("2 shown; more with --cursor c2\n");
  });

  it("prints a table as the API's JSON with --json", () => {
    const { context, written } = contextWith({ json: true });

    context.table({ items: [{ id: "A" }] }, ["id"]);

    expect(JSON.parse(written.out)).toEqual({ items: [{ id: "A" }] });
    expect(written.err).toBe("");
  });
});
