import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../cli/command.ts";
import { connectionFromOutputs } from "../../../cli/outputs.ts";
import { temporaryDir } from "../../runtime/helpers.ts";

const folder = temporaryDir("cli-outputs");

function outputsFile(content: unknown): string {
  const file = join(folder, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

describe("the platform an outputs file names", () => {
  it("is the stack with both ApiUrl and PlatformAudience", () => {
    const file = outputsFile({
      Stateful: { TableName: "t" },
      Api: { ApiUrl: "http://127.0.0.1:3000/", PlatformAudience: "dscp-local" },
    });

    expect(connectionFromOutputs(file)).toEqual({ baseUrl: "http://127.0.0.1:3000/", audience: "dscp-local" });
  });

  it("is a usage error when the file is not there", () => {
    const file = join(folder, "absent.json");

    expect(() => connectionFromOutputs(file)).toThrow(
      new UsageError(`no outputs file ${file}: run npm start, or give --outputs`),
    );
  });

  it("is a usage error when no stack names both", () => {
    const file = outputsFile({ Api: { ApiUrl: "http://127.0.0.1:3000/" } });

    expect(() => connectionFromOutputs(file)).toThrow(
      new UsageError(`${file} names no stack with ApiUrl and PlatformAudience`),
    );
  });
});
