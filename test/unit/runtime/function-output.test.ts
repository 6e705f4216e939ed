import { describe, expect, it } from "vitest";
import { echoes, isWarningOrWorse } from "../../../runtime/function-output.ts";

const info = JSON.stringify({ level: "INFO", message: "log entry appended", service: "dscp-log-appender" });
const warning = JSON.stringify({ level: "WARN", message: "a delivery was not made" });
const error = JSON.stringify({ level: "ERROR", message: "a chunk could not be applied" });
const metrics = JSON.stringify({
  _aws: { Timestamp: 0, CloudWatchMetrics: [{ Namespace: "DSCP", Dimensions: [["service"]], Metrics: [] }] },
  exchanges: 1,
});

describe("isWarningOrWorse", () => {
  it("keeps routine log lines and metrics out of the terminal", () => {
    expect([info, JSON.stringify({ level: "debug", message: "x" }), metrics].map(isWarningOrWorse)).toEqual([
      false,
      false,
      false,
    ]);
  });

  it("shows warnings and errors", () => {
    expect([warning, error].map(isWarningOrWorse)).toEqual([true, true]);
  });

  it("shows what is not a JSON log line: plain output, a crash's stack, JSON without a level", () => {
    expect(
      ["(node:12) Warning: something", "    at handler (index.mjs:1:2)", "{not json", '{"message":"no level"}'].map(
        isWarningOrWorse,
      ),
    ).toEqual([true, true, true, true]);
  });
});

describe("echoes", () => {
  it("copies every line with all, none with none", () => {
    expect([echoes("all", info), echoes("none", error)]).toEqual([true, false]);
  });
});
