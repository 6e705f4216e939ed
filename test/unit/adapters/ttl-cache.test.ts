import { describe, expect, it } from "vitest";
import { cached } from "../../../adapters/cache/ttl-cache.ts";

function counting(values: Record<string, string | undefined>) {
  const loads: string[] = [];
  const load = async (key: string) => {
    loads.push(key);
    if (key === "boom") throw new Error("store unavailable");
    return values[key];
  };
  return { load, loads };
}

describe("cached", () => {
  it("loads a key once while it is fresh, and again once it has expired", async () => {
    let clock = 0;
    const { load, loads } = counting({ a: "A" });
    const lookup = cached(load, { ttlMs: 100, now: () => clock });

    expect(await lookup("a")).toBe("A");
    clock = 99;
    expect(await lookup("a")).toBe("A");
    clock = 100;
    expect(await lookup("a")).toBe("A");
    expect(loads).toEqual(["a", "a"]);
  });

  it("shares a load in flight among concurrent lookups", async () => {
    const { load, loads } = counting({ a: "A" });
    const lookup = cached(load, { ttlMs: 100 });

    expect(await Promise.all([lookup("a"), lookup("a"), lookup("a")])).toEqual(["A", "A", "A"]);
    expect(loads).toEqual(["a"]);
  });

  it("does not remember a miss or a failure", async () => {
    const { load, loads } = counting({});
    const lookup = cached(load, { ttlMs: 100 });

    expect(await lookup("new")).toBeUndefined();
    await expect(lookup("boom")).rejects.toThrow("store unavailable");
    await lookup("new");
    await expect(lookup("boom")).rejects.toThrow("store unavailable");
    expect(loads).toEqual(["new", "boom", "new", "boom"]);
  });

  it("keeps at most maxEntries keys, dropping the oldest", async () => {
    const { load, loads } = counting({ a: "A", b: "B", c: "C" });
    const lookup = cached(load, { ttlMs: 1000, maxEntries: 2 });

    await lookup("a");
    await lookup("b");
    await lookup("c");
    await lookup("b");
    await lookup("a");
    expect(loads).toEqual(["a", "b", "c", "a"]);
  });
});
