import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { follow, until } from "../../../cli/wait.ts";

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("following a job", () => {
  it("returns a job that is not running as it is, without looking again", async () => {
    const next = vi.fn();

    const job = await follow({ state: "done" }, (job) => job.state === "running", vi.fn(), next);

    expect(job).toEqual({ state: "done" });
    expect(next).not.toHaveBeenCalled();
  });

  it("shows each running state and looks again until the job stops running", async () => {
    const states = ["running", "running", "done"];
    const shown: string[] = [];

    const followed = follow(
      { state: "running", step: 0 },
      (job) => job.state === "running",
      (job) => shown.push(`${job.step}`),
      async (job) => ({ state: states[job.step + 1] as string, step: job.step + 1 }),
    );
    await vi.runAllTimersAsync();

    expect(await followed).toEqual({ state: "done", step: 2 });
    expect(shown).toEqual(["0", "1"]);
  });
});

describe("waiting until work is done", () => {
  it("resolves to the first result the check gives", async () => {
    const results = [undefined, undefined, "done"];

    const waited = until(async () => results.shift(), 60, "the work");
    await vi.runAllTimersAsync();

    expect(await waited).toBe("done");
  });

  it("gives up with a message naming the work once the time is over", async () => {
    const waited = until(async () => undefined, 3, "audit A1");
    const outcome = expect(waited).rejects.toThrow("audit A1 did not finish within 3 s; look again later");
    await vi.runAllTimersAsync();

    await outcome;
  });
});
