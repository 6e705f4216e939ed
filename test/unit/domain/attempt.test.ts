import { describe, expect, it } from "vitest";
import type { ExchangeEntry } from "../../../domain/exchange/model.ts";
import {
  type AttemptFacts,
  attemptEntry,
  attemptOutcome,
  CounterpartFailedError,
  recorded,
} from "../../../domain/exchange-log/attempt.ts";
import { AuthenticationError } from "../../../domain/identity/errors.ts";
import { AccessRefusedError } from "../../../domain/permissions/errors.ts";
import { ConflictError, DependencyUnavailableError, NotFoundError, ValidationError } from "../../../domain/problem.ts";

const STARTED = Date.parse("2026-11-30T01:00:00.000Z");

const facts: AttemptFacts = {
  transactionId: "t-1",
  started: STARTED,
  consumerSystem: "HCM.PORTAL",
  consumerAgency: "HCM",
  datasetId: "MPS.POPULATION.CITIZENS",
  operation: "get-record",
  method: "request",
};

const permission = { id: "PRM-1", purpose: "Check residence", purposeClass: "public-service" };

describe("the outcome of an attempt", () => {
  it("is allowed, with its status, when the attempt was served", () => {
    expect(attemptOutcome({ status: 202 }, false)).toEqual({ outcome: "allowed", status: 202 });
  });

  it("is denied, with the problem's status and type, when the platform refused", () => {
    expect(attemptOutcome({ error: new AccessRefusedError("no-permission", "none") }, false)).toEqual({
      outcome: "denied",
      status: 403,
      problemType: "urn:dscp:problem:access:no-permission",
    });
    expect(attemptOutcome({ error: new ValidationError("bad", []) }, true)).toMatchObject({
      outcome: "denied",
      status: 400,
    });
    expect(attemptOutcome({ error: new ConflictError("exists") }, false)).toMatchObject({
      outcome: "denied",
      status: 409,
    });
  });

  it("is denied when a request is refused at authentication", () => {
    expect(attemptOutcome({ error: new AuthenticationError("bad-signature", "no") }, false)).toEqual({
      outcome: "denied",
      status: 401,
      problemType: "urn:dscp:problem:auth:bad-signature",
    });
  });

  it("is allowed when nothing was found under a permission, and denied when nothing was found before one", () => {
    const missing = { error: new NotFoundError("no record 1") };

    expect(attemptOutcome(missing, true)).toEqual({
      outcome: "allowed",
      status: 404,
      problemType: "urn:dscp:problem:not-found",
    });
    expect(attemptOutcome(missing, false)).toMatchObject({ outcome: "denied", status: 404 });
  });

  it("is failed when the platform or the provider broke (a problem of 500 or more)", () => {
    expect(attemptOutcome({ error: new DependencyUnavailableError("down") }, true)).toEqual({
      outcome: "failed",
      status: 503,
      problemType: "urn:dscp:problem:dependency-unavailable",
    });
  });

  it("is failed, with the status the counterpart answered, when the other party's system failed", () => {
    expect(attemptOutcome({ error: new CounterpartFailedError(400, "delivery-failed", "answered 400") }, true)).toEqual(
      { outcome: "failed", status: 400, problemType: "urn:dscp:problem:delivery-failed" },
    );
  });

  it("is a failed 503 when a store or queue refused for load", () => {
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    expect(attemptOutcome({ error: throttled }, true)).toEqual({
      outcome: "failed",
      status: 503,
      problemType: "urn:dscp:problem:dependency-unavailable",
    });
  });

  it("is a failed 500 of the internal-error type when anything else was thrown", () => {
    expect(attemptOutcome({ error: new TypeError("x is undefined") }, true)).toEqual({
      outcome: "failed",
      status: 500,
      problemType: "urn:dscp:problem:internal-error",
    });
    expect(attemptOutcome({ error: "a string" }, false)).toMatchObject({ outcome: "failed", status: 500 });
  });
});

describe("the log entry of an attempt", () => {
  it("holds when it started, how long it took, and who asked for what", () => {
    const entry = attemptEntry(facts, { status: 200 }, STARTED + 42);

    expect(entry).toEqual({
      transactionId: "t-1",
      time: "2026-11-30T01:00:00.000Z",
      consumerSystem: "HCM.PORTAL",
      consumerAgency: "HCM",
      datasetId: "MPS.POPULATION.CITIZENS",
      operation: "get-record",
      method: "request",
      fieldsReturned: [],
      recordCount: 0,
      outcome: "allowed",
      status: 200,
      latencyMs: 42,
      bytes: 0,
      crossBorder: false,
    });
  });

  it("names the dataset's provider and the permission's terms once they are known", () => {
    const entry = attemptEntry(
      { ...facts, dataset: { providerSystem: "MPS.POPULATION", managingAgency: "MPS" }, permission },
      { status: 200 },
      STARTED,
    );

    expect(entry).toMatchObject({
      providerSystem: "MPS.POPULATION",
      providerAgency: "MPS",
      permissionId: "PRM-1",
      purpose: "Check residence",
      purposeClass: "public-service",
    });
  });

  it("names the purpose of the operator's own mandate, which has no permission id", () => {
    const entry = attemptEntry({ ...facts, permission: { purpose: "Archive" } }, { status: 200 }, STARTED);

    expect(entry.purpose).toBe("Archive");
    expect(entry).not.toHaveProperty("permissionId");
    expect(entry).not.toHaveProperty("purposeClass");
  });

  it("names the end user and case the consumer called for, and leaves them out when it named none", () => {
    const named = attemptEntry(
      { ...facts, endUser: "Nguyễn Văn An", caseRef: "HS-2026/118" },
      { status: 200 },
      STARTED,
    );
    const unnamed = attemptEntry(facts, { status: 200 }, STARTED);

    expect(named).toMatchObject({ endUser: "Nguyễn Văn An", caseRef: "HS-2026/118" });
    expect(Object.keys(unnamed)).not.toContain("endUser");
    expect(Object.keys(unnamed)).not.toContain("caseRef");
  });

  it("counts the fields and records returned when the attempt was served", () => {
    const entry = attemptEntry(
      { ...facts, fieldsReturned: ["personalId", "province"], recordCount: 2, bytes: 120 },
      { status: 200 },
      STARTED,
    );

    expect(entry).toMatchObject({ fieldsReturned: ["personalId", "province"], recordCount: 2, bytes: 120 });
  });

  it("returns no fields and no records for an attempt that ended in an error, whatever was gathered", () => {
    const entry = attemptEntry(
      { ...facts, permission, fieldsReturned: ["personalId"], recordCount: 1, bytes: 80 },
      { error: new NotFoundError("no record 1") },
      STARTED,
    );

    expect(entry).toMatchObject({
      fieldsReturned: [],
      recordCount: 0,
      bytes: 80,
      outcome: "allowed",
      status: 404,
      problemType: "urn:dscp:problem:not-found",
    });
  });

  it("counts records withheld for breaking their schema, even when the attempt failed, and only when there are some", () => {
    const failed = attemptEntry(
      { ...facts, invalidRecords: 1 },
      { error: new DependencyUnavailableError("down") },
      STARTED,
    );
    const clean = attemptEntry({ ...facts, invalidRecords: 0 }, { status: 200 }, STARTED);

    expect(failed.invalidRecords).toBe(1);
    expect(clean).not.toHaveProperty("invalidRecords");
  });

  it("keeps what is particular to a batch, a delivery or a refused token", () => {
    const entry = attemptEntry(
      {
        ...facts,
        operation: "sync-delivery",
        method: "sync",
        submittedBy: "MPS.POPULATION",
        batchId: "B-1",
        deliveryId: "B-1.c0.HCM.PORTAL.0.abc",
        attempt: 3,
        claimedIssuer: "HCM.PORTAL",
        crossBorder: true,
      },
      { error: new CounterpartFailedError(503, "endpoint-not-approved", "awaits approval") },
      STARTED,
    );

    expect(entry).toMatchObject({
      submittedBy: "MPS.POPULATION",
      batchId: "B-1",
      deliveryId: "B-1.c0.HCM.PORTAL.0.abc",
      attempt: 3,
      claimedIssuer: "HCM.PORTAL",
      crossBorder: true,
      outcome: "failed",
      status: 503,
      problemType: "urn:dscp:problem:endpoint-not-approved",
    });
  });

  it("has no problem type when the attempt was served", () => {
    expect(attemptEntry(facts, { status: 200 }, STARTED)).not.toHaveProperty("problemType");
  });
});

describe("a recorded attempt", () => {
  it("returns what its work returned and records it as served, with 200 unless its status says otherwise", async () => {
    const entries: ExchangeEntry[] = [];
    const log = async (entry: ExchangeEntry) => {
      entries.push(entry);
    };

    const plain = await recorded(
      log,
      () => facts,
      async () => "served",
    );
    const accepted = await recorded(
      log,
      () => facts,
      async () => ({ status: 202 }),
      (value) => value.status,
    );

    expect(plain).toBe("served");
    expect(accepted).toEqual({ status: 202 });
    expect(entries.map((entry) => [entry.outcome, entry.status])).toEqual([
      ["allowed", 200],
      ["allowed", 202],
    ]);
  });

  it("records the error its work threw, then throws it on", async () => {
    const entries: ExchangeEntry[] = [];
    const refused = new AccessRefusedError("no-permission", "none");

    const attempt = recorded(
      async (entry) => {
        entries.push(entry);
      },
      () => facts,
      async () => {
        throw refused;
      },
    );

    await expect(attempt).rejects.toBe(refused);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ outcome: "denied", status: 403 });
  });

  it("reads the facts once the work has ended, with what the work found", async () => {
    const entries: ExchangeEntry[] = [];
    let recordCount = 0;

    await recorded(
      async (entry) => {
        entries.push(entry);
      },
      () => ({ ...facts, recordCount }),
      async () => {
        recordCount = 3;
      },
    );

    expect(entries[0]?.recordCount).toBe(3);
  });
});
