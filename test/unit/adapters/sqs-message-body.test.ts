import { describe, expect, it } from "vitest";
import { messageBody } from "../../../adapters/sqs/send.ts";

/** Whether SQS takes the text as a message body (#x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF). */
function sqsTakes(text: string): boolean {
  return [...text].every((character) => {
    const code = character.codePointAt(0) ?? 0;
    return (
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff)
    );
  });
}

describe("messageBody", () => {
  it("carries noncharacters, control characters, lone surrogates and emoji as text SQS takes, meaning the same", () => {
    const message = {
      purpose: "Kiểm tra \uFFFE cư trú \uFFFF 🏫",
      record: { fullName: "nul \u0000 bell \u0007 lone \uD800", "key\uFFFF": "\uFFFF" },
    };

    const body = messageBody(message);

    expect(sqsTakes(JSON.stringify(message))).toBe(false);
    expect(sqsTakes(body)).toBe(true);
    expect(JSON.parse(body)).toEqual(message);
  });
});
