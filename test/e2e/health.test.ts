import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { target } from "./target.ts";

const { apiUrl, stage } = target();
const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

describe("GET /v1/health", () => {
  it("reports the platform's version, stage, time and a reachable data tier", async () => {
    const response = await fetch(`${apiUrl}v1/health`);
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(body).toMatchObject({ status: "ok", version, stage, checks: { registry: { status: "ok" } } });
    expect(new Date(String(body.time)).toISOString()).toBe(body.time);
  });

  it("returns a transaction id that names the request", async () => {
    const first = await fetch(`${apiUrl}v1/health`);
    const second = await fetch(`${apiUrl}v1/health`);

    expect(first.headers.get("x-transaction-id")).toMatch(/^[\w-]{8,}$/);
    expect(first.headers.get("x-transaction-id")).not.toBe(second.headers.get("x-transaction-id"));
  });

  it("is not cached by intermediaries", async () => {
    const response = await fetch(`${apiUrl}v1/health`);

    expect(response.headers.get("cache-control")).toBe("no-store");
  });
});

describe("routes the platform does not serve", () => {
  it("answer 404 with RFC 9457 problem details and the transaction id", async () => {
    const response = await fetch(`${apiUrl}v1/no-such-thing`);
    const problem = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(problem).toMatchObject({
      type: "urn:dscp:problem:no-such-route",
      status: 404,
      instance: expect.any(String),
    });
    expect(problem.transactionId).toBe(response.headers.get("x-transaction-id"));
  });

  it("answer a method the route does not offer the same way", async () => {
    const response = await fetch(`${apiUrl}v1/health`, { method: "DELETE" });

    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });
});
