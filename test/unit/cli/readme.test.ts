import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCommand } from "../../../cli/dscp.ts";

/** Every `npx dscp …` command line in the README's shell blocks, continuation lines joined. */
function readmeCommands(): string[] {
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string);
  const lines = blocks.flatMap((block) => block.replace(/\\\n\s*/g, " ").split("\n"));
  const commands: string[] = [];
  for (const line of lines) {
    for (const match of line.matchAll(/npx dscp /g)) {
      const start = (match.index ?? 0) + "npx dscp ".length;
      const inSubstitution = line.slice(0, match.index).endsWith("$(");
      commands.push(untilEnd(line.slice(start), inSubstitution));
    }
  }
  return commands;
}

/** The command's text: up to an unquoted `#` comment, redirection, pipe or `;`, or the `)` closing the substitution it is in. */
function untilEnd(text: string, inSubstitution: boolean): string {
  let quote: string | undefined;
  let depth = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === "(") depth++;
    else if (char === ")") {
      if (depth === 0 && inSubstitution) return text.slice(0, index);
      depth--;
    } else if (char === "#" && /\s/.test(text[index - 1] ?? " ")) return text.slice(0, index);
    else if ((char === ">" || char === "|" || char === ";") && /\s/.test(text[index - 1] ?? " ")) {
      // A redirection or the next command of a pipeline: not the command's own words.
      return text.slice(0, index);
    }
  }
  return text;
}

/** Shell words: quotes removed, command substitutions and variables stand for one word. */
function words(command: string): string[] {
  return [...command.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)].map(
    (match) => match[1] ?? match[2] ?? (match[3] as string),
  );
}

describe("the README's dscp examples", () => {
  const commands = readmeCommands();

  it("are there", () => {
    expect(commands.length).toBeGreaterThan(15);
  });

  it.each(commands.map((command) => [command]))("parse as a known command with known options: dscp %s", (command) => {
    const parsed = parseCommand(words(command));

    expect(parsed?.command.name).toBeDefined();
    expect(words(command).join(" ")).toContain(parsed?.command.name);
  });
});
