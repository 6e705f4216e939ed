import { describe, expect, it } from "vitest";
import { checkHealth } from "../../../domain/health.ts";

const fixedNow = () => new Date("2026-11-27T08:00:00.000Z");

describe("checkHealth", () => {
  it("reports ok with version, stage and time when every probe answers", async () => {
    const report = await checkHealth({
      version: "1.2.3",
      stage: "dev",
      now: fixedNow,
      probes: [{ name: "registry", check: async () => {} }],
    });

    expect(report).toMatchObject({
      status: "ok",
      version: "1.2.3",
      stage: "dev",
      time: "2026-11-27T08:00:00.000Z",
      checks: { registry: { status: "ok" } },
    });
  });

  it("reports degraded, naming the failing probe and the error's kind but not its message", async () => {
    const report = await checkHealth({
      version: "1.2.3",
      stage: "dev",
      now: fixedNow,
      probes: [
        { name: "registry", check: async () => {} },
        {
          name: "exchange-log",
          check: async () => {
            throw new TypeError("secret connection string");
          },
        },
      ],
    });

    expect(report.status).toBe("degraded");
    expect(report.checks["exchange-log"]).toMatchObject({ status: "failing", error: "TypeError" });
    expect(JSON.stringify(report)).not.toContain("secret connection string");
  });
});
