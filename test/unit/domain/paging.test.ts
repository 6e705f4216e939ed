import { describe, expect, it } from "vitest";
import { allPages } from "../../../domain/paging.ts";

describe("reading every page", () => {
  it("yields every item in order and asks for the next page before the caller is through this one", async () => {
    const asked: string[] = [];
    const pages: Record<string, { items: number[]; nextCursor?: string }> = {
      start: { items: [1, 2], nextCursor: "b" },
      b: { items: [3], nextCursor: "c" },
      c: { items: [4, 5] },
    };
    const seen: Array<[number, number]> = [];
    for await (const item of allPages(async ({ cursor, limit }) => {
      asked.push(`${cursor ?? "start"}/${limit}`);
      return pages[cursor ?? "start"] as { items: number[]; nextCursor?: string };
    }, 2)) {
      seen.push([item, asked.length]);
    }

    expect(seen.map(([item]) => item)).toEqual([1, 2, 3, 4, 5]);
    expect(asked).toEqual(["start/2", "b/2", "c/2"]);
    // While item 1 was handled, the second page had already been asked for.
    expect(seen[0]).toEqual([1, 2]);
  });

  it("passes a failed read on to the caller", async () => {
    const read = async ({ cursor }: { cursor?: string }) => {
      if (cursor) throw new Error("throttled");
      return { items: [1], nextCursor: "next" };
    };
    const items: number[] = [];

    await expect(
      (async () => {
        for await (const item of allPages(read, 10)) items.push(item);
      })(),
    ).rejects.toThrow("throttled");
    expect(items).toEqual([1]);
  });
});
