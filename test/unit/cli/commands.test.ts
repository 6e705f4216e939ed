import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Command } from "../../../cli/command.ts";
import { COMMANDS } from "../../../cli/dscp.ts";

const folder = new URL("../../../cli/commands/", import.meta.url);

function isCommand(value: unknown): value is Command {
  return typeof value === "object" && value !== null && "name" in value && "run" in value;
}

/** Every command each module under cli/commands/ exports, alone or in a list. */
async function areaCommands(): Promise<Command[]> {
  const modules = await Promise.all(
    readdirSync(folder)
      .filter((file) => file.endsWith(".ts"))
      .map((file) => import(new URL(file, folder).href) as Promise<Record<string, unknown>>),
  );
  return modules.flatMap((module) =>
    Object.values(module).flatMap((value) =>
      Array.isArray(value) ? value.filter(isCommand) : [value].filter(isCommand),
    ),
  );
}

describe("the CLI's command list", () => {
  it("holds every command the areas export, each once", async () => {
    const exported = await areaCommands();

    expect(new Set(COMMANDS)).toEqual(new Set(exported));
    expect(COMMANDS).toHaveLength(exported.length);
  });

  it("names each command once", () => {
    const names = COMMANDS.map((command) => command.name);

    expect(new Set(names).size).toBe(names.length);
  });
});
