import { describe, expect, it } from "vitest";
import { barChartSvg, toCsv } from "../../../cli/reports.ts";
import type { Dataset } from "../../../domain/catalog/model.ts";
import type { ExchangeEntry } from "../../../domain/exchange/model.ts";
import { auditDataset } from "../../../domain/oversight/audit.ts";
import { complianceOf, complianceReport } from "../../../domain/oversight/compliance.ts";
import { FingerprintTable, fingerprint, KeyArena, normalised } from "../../../domain/oversight/fingerprints.ts";
import { type Audit, durationMs } from "../../../domain/oversight/model.ts";
import { OversightService } from "../../../domain/oversight/oversight-service.ts";
import { classify, RANKING_INDICES, rankDatabase, tallyUsage } from "../../../domain/oversight/ranking.ts";
import type { Caller } from "../../../domain/registry/model.ts";
import type { StoredRecord } from "../../../domain/sync/model.ts";
import { exchangeEntryFixture, permissionFixture, streamOf } from "./fixtures.ts";

const NOW = new Date("2026-11-27T12:00:00.000Z");
const indices = RANKING_INDICES["2026.1"] as NonNullable<(typeof RANKING_INDICES)[string]>;

function dataset(overrides: Partial<Dataset> = {}): Dataset {
  return {
    id: "MPS.POPULATION.CITIZENS",
    managingAgency: "MPS",
    providerSystem: "MPS.POPULATION",
    title: "Citizens",
    description: "d",
    scope: "s",
    qualityStatement: "q",
    accessConditions: "a",
    classification: "restricted",
    mandatory: "appendix-i",
    crossBorderAllowed: false,
    methods: ["integrated"],
    keyFields: ["personalId"],
    fields: ["personalId", "fullName", "birthDate", "province"].map((name) => ({
      name,
      type: "string" as const,
      personal: true,
    })),
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:00:00.000Z",
    revision: 1,
    ...overrides,
  };
}

function stored(record: Record<string, unknown>, updatedAt = "2026-11-27T00:00:00.000Z"): StoredRecord {
  return {
    datasetId: "MPS.POPULATION.CITIZENS",
    key: String(record.personalId),
    record,
    version: 1,
    deleted: false,
    sourceBatch: "b",
    updatedAt,
  };
}

const each = streamOf;
/** A query of the integrated citizens a week before NOW. */
const entry = (overrides: Partial<ExchangeEntry>) =>
  exchangeEntryFixture({
    time: "2026-11-20T00:00:00.000Z",
    operation: "query",
    method: "integrated",
    latencyMs: 40,
    ...overrides,
  });

const person = (id: string, name = `Person ${id}`) => ({
  personalId: id,
  fullName: name,
  birthDate: "1990-01-01",
  province: "79",
});

describe("fingerprints", () => {
  it("remembers the first holder of each of many fingerprints through every growth of the table", () => {
    const table = new FingerprintTable();
    const firsts = Array.from({ length: 5000 }, (_, index) => table.firstWith(`text ${index}`, index));
    const again = [0, 1023, 1024, 4999].map((index) => table.firstWith(`text ${index}`, 9999));

    expect(firsts.every((first) => first === -1)).toBe(true);
    expect(again).toEqual([0, 1023, 1024, 4999]);
  });

  it("tells apart many close texts by their 64-bit fingerprints", () => {
    const seen = new Set<string>();
    for (let index = 0; index < 200_000; index++)
      seen.add(fingerprint(`0${String(index).padStart(11, "0")}`).join(":"));

    expect(seen.size).toBe(200_000);
    expect(fingerprint("Nguyễn")).not.toEqual(fingerprint("Nguyen"));
  });

  it("keeps keys by ordinal in one buffer, past its first size", () => {
    const arena = new KeyArena();
    const keys = Array.from({ length: 3000 }, (_, index) => `ĐỊNH-${index}-${"x".repeat(index % 50)}`);
    const ordinals = keys.map((key) => arena.add(key));

    expect(ordinals.map((ordinal) => arena.get(ordinal))).toEqual(keys);
  });

  it("compares values as people would: case, diacritics, spacing, punctuation and leading zeros aside", () => {
    expect(normalised(" 001-234 ")).toBe(normalised("1234"));
    expect(normalised("Nguyễn Văn Đức")).toBe(normalised("NGUYEN VAN DUC"));
    expect(normalised("1234")).not.toBe(normalised("12345"));
    expect(normalised(undefined)).toBe("");
  });

  it("reads ISO 8601 durations, counting a year as 365 days", () => {
    expect(durationMs("P1D")).toBe(86_400_000);
    expect(durationMs("P1Y2M3W")).toBe((365 + 60 + 21) * 86_400_000);
    expect(durationMs("PT1H30M5S")).toBe(5_405_000);
  });
});

describe("auditing a dataset (Art. 14)", () => {
  const subject = (records: StoredRecord[], overrides: Record<string, unknown> = {}) => ({
    dataset: dataset(),
    records: each(records),
    permissions: [],
    entries: each<ExchangeEntry>([]),
    staleAfter: "P365D",
    accessWindow: "P90D",
    now: NOW,
    ...overrides,
  });

  it("counts every repeat of a key or content in a group, and names the first holder first", async () => {
    const report = await auditDataset(
      subject([
        stored(person("001", "An")),
        stored(person("1", "Bình")),
        stored(person("0-01", "Chi")),
        stored(person("200", "Dũng")),
        stored(person("300", "DUNG")),
      ]),
    );

    expect(report.duplicates).toMatchObject({
      keyGroups: 1,
      keyRecords: 2,
      nearIdenticalGroups: 1,
      nearIdenticalRecords: 1,
    });
    expect(report.duplicates.sample).toEqual([
      { kind: "data-key", keys: ["001", "1", "0-01"] },
      { kind: "near-identical", keys: ["200", "300"] },
    ]);
    expect(report.duplicates.rate).toBe(40);
    // Without a schema, validity cannot be checked: that is a finding too.
    expect(report.findings.map((finding) => `${finding.check}:${finding.severity}`)).toEqual([
      "validity:medium",
      "duplicates:high",
      "duplicates:medium",
    ]);
  });

  it("calls the dataset overdue when its newest update is older than its declared frequency", async () => {
    const report = await auditDataset(
      subject(
        [
          stored(person("1"), "2026-11-20T00:00:00.000Z"),
          stored(person("2"), "2024-01-01T00:00:00.000Z"),
          stored(person("3"), "2026-11-19T00:00:00.000Z"),
        ],
        { dataset: dataset({ updateFrequency: "P1D" }) },
      ),
    );

    expect(report.timeliness).toMatchObject({
      overdue: true,
      newestAgeDays: 7,
      staleRecords: 1,
      sample: ["2"],
      rate: 66.7,
    });
    // Overdue caps the score at 50, below the share of fresh records.
    expect(report.scores.timeliness).toBe(50);
    expect(report.findings.filter((finding) => finding.check === "timeliness")).toHaveLength(2);
  });

  it("is not overdue when the provider's batches arrive on time though they change nothing", async () => {
    const report = await auditDataset(
      subject([stored(person("1"), "2026-10-01T00:00:00.000Z")], {
        dataset: dataset({ updateFrequency: "P1D" }),
        entries: each([
          entry({ operation: "sync-batch", consumerAgency: "MPS", time: "2026-11-27T01:00:00.000Z" }),
          entry({ operation: "sync-batch", outcome: "denied", status: 403, time: "2026-11-27T02:00:00.000Z" }),
        ]),
      }),
    );

    expect(report.timeliness).toMatchObject({ overdue: false, lastBatch: "2026-11-27T01:00:00.000Z" });
    // The provider's own batches are not access to its data.
    expect(report.access).toMatchObject({ exchanges: 0, denied: 0, denialRate: 0 });
  });

  it("counts a record repeating an earlier one by key and by content once", async () => {
    const same = { fullName: "An", birthDate: "1990-01-01", province: "79" };
    const report = await auditDataset(
      subject([
        stored({ personalId: "001", ...same }),
        stored({ personalId: "1", ...same }),
        stored({ personalId: "01", ...same }),
      ]),
    );

    expect(report.duplicates).toMatchObject({ keyRecords: 2, nearIdenticalRecords: 2, rate: 33.3 });
  });

  it("checks only what the platform sees for a dataset it does not hold: access", async () => {
    const report = await auditDataset({
      ...subject([]),
      records: undefined,
      permissions: [
        permissionFixture({ id: "OLD", createdAt: "2026-01-01T00:00:00.000Z" }),
        permissionFixture({ id: "USED", createdAt: "2026-01-01T00:00:00.000Z" }),
        permissionFixture({ id: "GONE", validUntil: "2026-10-01T00:00:00.000Z" }),
        permissionFixture({ id: "REVOKED", status: "revoked", validUntil: "2026-10-01T00:00:00.000Z" }),
      ],
      entries: each([
        entry({ permissionId: "USED" }),
        entry({ outcome: "denied", problemType: "urn:dscp:problem:access:no-permission", status: 403 }),
        entry({ time: "2025-01-01T00:00:00.000Z", outcome: "denied", status: 403 }),
      ]),
    });

    expect(report).toMatchObject({ held: false, records: 0 });
    expect(report.scores).toEqual({ access: 60, overall: 60 });
    expect(report.access).toMatchObject({
      exchanges: 2,
      allowed: 1,
      denied: 1,
      denialRate: 50,
      expiredCount: 1,
      expired: [{ permissionId: "GONE" }],
      unusedCount: 1,
      unused: [{ permissionId: "OLD", consumerSystem: "HCM.PORTAL" }],
      expiredUse: [],
    });
    expect(report.findings.map((finding) => `${finding.check}:${finding.severity}`)).toEqual([
      "access:medium",
      "access:low",
      "access:medium",
    ]);
  });
});

describe("ranking databases (Art. 15)", () => {
  const all = (score: number) =>
    (["a", "b", "c", "d", "đ", "e", "g", "h"] as const).map((criterion) => ({ criterion, score }));

  it("classifies by the indices' thresholds, saying what kept a database from the class above", () => {
    expect(classify(85, all(50), indices)).toEqual({ rankClass: "A", reasons: [] });
    const b = classify(90, [...all(90).slice(1), { criterion: "a" as const, score: 49.9 }], indices);
    expect(b.rankClass).toBe("B");
    expect(b.reasons).toEqual(["criterion a scores 49.9, under 50, needed for A"]);
    expect(classify(59.9, all(60), indices)).toEqual({
      rankClass: "C",
      reasons: ["score 59.9 is under 85, needed for A", "score 59.9 is under 60, needed for B"],
    });
  });

  it("puts a late database in C whatever its score, with the Art. 24 reason", () => {
    const ranked = rankDatabase({ dataset: dataset({ mandatory: "appendix-i" }) }, indices, "2026-11-27");

    expect(ranked.class).toBe("C");
    expect(ranked.reasons).toEqual(["late (Art. 24): not standardised; the deadline was 2025-12-31 (Art. 24)"]);
    expect(ranked.criteria.find((criterion) => criterion.criterion === "e")).toMatchObject({
      score: 0,
      evidence: ["no exchange served in the year: nothing to measure"],
    });
  });

  it("tallies use per database from the log, leaving out the provider's own batch submissions", async () => {
    const usage = await tallyUsage(
      each([
        entry({ consumerAgency: "MPS", consumerSystem: "MPS.APP" }),
        entry({ purposeClass: "public-service", recordCount: 9 }),
        entry({ outcome: "failed", latencyMs: 45 }),
        entry({ operation: "sync-batch", consumerAgency: "MPS", recordCount: 500 }),
        entry({ datasetId: "UNKNOWN.DATASET.X" }),
      ]),
      new Map([["MPS.POPULATION.CITIZENS", "MPS"]]),
    );
    const tally = usage.get("MPS.POPULATION.CITIZENS");

    expect(usage.size).toBe(1);
    expect(tally).toMatchObject({ allowed: 2, failed: 1, internal: 1, external: 1, publicService: 1, records: 10 });
    expect([...(tally?.agencies ?? [])]).toEqual(["HCM"]);
    const ranked = rankDatabase(
      {
        dataset: dataset({ schema: { id: "S", version: "1.0.0" }, standardisedAt: "2025-06-01T00:00:00.000Z" }),
        connectedOn: "2026-03-01",
        ...(tally ? { usage: tally } : {}),
      },
      indices,
      "2026-11-27",
    );
    const e = ranked.criteria.find((criterion) => criterion.criterion === "e");
    expect(e?.evidence.slice(0, 2)).toEqual([
      "availability 66.67% (1 failed of 3; target 99.5%)",
      "95th percentile latency ≤ 50 ms (target 1000 ms)",
    ]);
    // Availability under 90% scores nothing; latency within target scores fully: 0.6 × 0 + 0.4 × 100.
    expect(e?.score).toBe(40);
    expect(ranked.criteria.find((criterion) => criterion.criterion === "a")?.score).toBe(100);
  });
});

describe("compliance against the Art. 24 deadlines", () => {
  it("tells connected on time from late, overdue and not required", () => {
    const mandatory = dataset({ mandatory: "appendix-ii" });

    expect(complianceOf(mandatory, "2026-12-31", "2027-02-01").connection).toBe("connected");
    expect(complianceOf(mandatory, "2027-01-01", "2027-02-01").connection).toBe("connected-late");
    expect(complianceOf(mandatory, undefined, "2026-12-31").connection).toBe("pending");
    expect(complianceOf(mandatory, undefined, "2027-01-01")).toMatchObject({ connection: "overdue", late: true });
    expect(complianceOf(dataset({ mandatory: "none" }), undefined, "2027-01-01").connection).toBe("not-required");
  });

  it("names each late database of an agency with every reason", () => {
    const report = complianceReport(
      [
        dataset({ id: "MPS.A.LATE", mandatory: "appendix-ii" }),
        dataset({
          id: "MPS.A.FINE",
          mandatory: "none",
          schema: { id: "S", version: "1.0.0" },
          standardisedAt: "2026-01-01T00:00:00.000Z",
        }),
      ],
      new Map([["MPS.A.FINE", "2026-02-01"]]),
      new Date("2027-01-05T00:00:00.000Z"),
    );

    expect(report.agencies).toEqual([
      {
        agency: "MPS",
        datasets: 2,
        standardised: 1,
        connected: 1,
        onTrack: 1,
        late: [
          {
            datasetId: "MPS.A.LATE",
            reasons: [
              "not standardised; the deadline was 2026-12-31 (Art. 24)",
              "not connected through the platform; the deadline was 2026-12-31 (Art. 24.3)",
            ],
          },
        ],
      },
    ]);
  });
});

describe("the oversight service", () => {
  const supervisor: Caller = {
    systemId: "MPS.INSPECTION",
    agencyCode: "MPS",
    roles: ["supervisor"],
    capabilities: [],
    kid: "k",
  };
  const agency: Caller = { systemId: "HCM.PORTAL", agencyCode: "HCM", roles: [], capabilities: ["consumer"], kid: "k" };

  function service() {
    const audits = new Map<string, Audit>();
    const heads = new Map<number, Audit & Record<string, unknown>>();
    const queued: unknown[] = [];
    let tick = 0;
    const page =
      <T>(items: T[]) =>
      async () => ({ items });
    const oversight = new OversightService({
      catalog: {
        getDataset: async (id) => (id === dataset().id ? dataset() : undefined),
        listDatasets: async (filter) => ({ items: !filter.agency || filter.agency === "MPS" ? [dataset()] : [] }),
      },
      schemas: async () => undefined,
      validator: { check: () => () => [] },
      records: () => page([stored(person("1"))]),
      permissions: () => page([]),
      entries: () => page([]),
      connections: async () => new Map(),
      store: {
        createAudit: async (audit) => {
          audits.set(audit.auditId, audit);
        },
        getAudit: async (id) => audits.get(id),
        updateAudit: async (id, from, changes) => {
          const audit = audits.get(id);
          if (audit?.state !== from) return false;
          audits.set(id, { ...audit, ...changes });
          return true;
        },
        audits: async () => ({ items: [...audits.values()] }),
        unfinishedAudit: async (datasetId, since) =>
          [...audits.values()].find(
            (audit) =>
              audit.datasetId === datasetId &&
              audit.createdAt >= since &&
              (audit.state === "queued" || audit.state === "running"),
          ),
        latestAudit: async () => undefined,
        rankingHead: async (year) => heads.get(year) as never,
        putRankingHead: async (head) => {
          heads.set(head.year, head as never);
          return true;
        },
        putRankedDatabases: async () => undefined,
        rankedDatabases: async () => [],
        putIndices: async () => true,
        storedIndices: async () => [],
      },
      queue: async (work) => {
        queued.push(...work);
      },
      // A clock that moves a second a reading: a second run of anything would show.
      now: () => new Date(NOW.getTime() + 1000 * tick++),
    });
    return { oversight, audits, queued };
  }

  it("queues the daily audits of every dataset, and runs each once however often its message comes", async () => {
    const { oversight, audits, queued } = service();
    const { audits: scheduled } = await oversight.requestAudits("schedule", {
      staleAfter: "P365D",
      accessWindow: "P90D",
    });
    const auditId = String(scheduled[0]?.auditId);
    const first = await oversight.runAudit(auditId);
    const again = await oversight.runAudit(auditId);

    expect(queued).toEqual([{ auditId }]);
    expect(audits.get(auditId)).toMatchObject({ trigger: "scheduled", requestedBy: "schedule", state: "completed" });
    expect(first?.report?.records).toBe(1);
    expect(first?.report?.scores).not.toHaveProperty("validity");
    expect(again?.completedAt).toBe(first?.completedAt);
  });

  it("ranks the year just over once a day comes that finds no ranking of the whole of it", async () => {
    const { oversight, queued } = service();

    const first = await oversight.scheduleYearlyRanking();
    const again = await oversight.scheduleYearlyRanking();

    expect(first).toMatchObject({ year: 2025, kind: "official", indices: "2026.1", requestedBy: "schedule" });
    expect(first?.window.to).toBe("2025-12-31T16:59:59.999Z");
    expect(again).toBeUndefined();
    expect(queued).toEqual([{ rankingYear: 2025 }]);
  });

  it("answers a second request for the same audit with the one still waiting, and queues it once", async () => {
    const { oversight, queued } = service();
    const first = await oversight.requestAudits(supervisor, { staleAfter: "P365D", accessWindow: "P90D" });
    const again = await oversight.requestAudits("schedule", { staleAfter: "P365D", accessWindow: "P90D" });
    const other = await oversight.requestAudits(supervisor, { staleAfter: "P30D", accessWindow: "P90D" });

    expect(again.audits).toEqual(first.audits);
    expect(other.audits[0]?.auditId).not.toBe(first.audits[0]?.auditId);
    expect(queued).toHaveLength(2);
  });

  it("takes over an audit whose worker died, once it has outlived the worker's time", async () => {
    const { oversight, audits } = service();
    const running = (startedAt: string): Audit => ({
      auditId: `AUD-${startedAt}`,
      datasetId: dataset().id,
      managingAgency: "MPS",
      trigger: "on-demand",
      requestedBy: "MPS.INSPECTION",
      state: "running",
      parameters: { staleAfter: "P365D", accessWindow: "P90D" },
      createdAt: startedAt,
      startedAt,
    });
    audits.set("recent", { ...running("2026-11-27T11:50:00.000Z"), auditId: "recent" });
    audits.set("dead", { ...running("2026-11-27T11:40:00.000Z"), auditId: "dead" });

    expect((await oversight.runAudit("recent"))?.state).toBe("running");
    expect((await oversight.runAudit("dead"))?.state).toBe("completed");
  });

  it("shows an audit that outlived two runs of its worker as failed, saying why", async () => {
    const { oversight, audits } = service();
    audits.set("lost", {
      auditId: "lost",
      datasetId: dataset().id,
      managingAgency: "MPS",
      trigger: "scheduled",
      requestedBy: "schedule",
      state: "running",
      parameters: { staleAfter: "P365D", accessWindow: "P90D" },
      createdAt: "2026-11-27T11:00:00.000Z",
      startedAt: "2026-11-27T11:00:00.000Z",
    });

    expect(await oversight.audit(supervisor, "lost")).toMatchObject({
      state: "failed",
      error: expect.stringContaining("dead-letter queue"),
    });
    await expect(oversight.audit(agency, "lost")).rejects.toMatchObject({ status: 404 });
  });

  it("lets an agency audit only its own datasets, and only the supervisor or operator rank", async () => {
    const { oversight } = service();

    await expect(
      oversight.requestAudits(agency, { datasetId: dataset().id, staleAfter: "P1D", accessWindow: "P1D" }),
    ).rejects.toMatchObject({ status: 403 });
    await expect(oversight.requestRanking(agency, 2026)).rejects.toMatchObject({ status: 403 });
    await expect(oversight.requestRanking(supervisor, 2031)).rejects.toMatchObject({ status: 400 });
    await oversight.requestRanking(supervisor, 2026);
    await expect(oversight.requestRanking(supervisor, 2026)).rejects.toMatchObject({ status: 409 });
  });
});

describe("report files", () => {
  it("writes CSV by RFC 4180, lists joined", () => {
    expect(toCsv([{ a: 'say "hi", then', b: ["x", "y"], c: 1 }], ["a", "b", "c", "d"])).toBe(
      'a,b,c,d\r\n"say ""hi"", then",x; y,1,\r\n',
    );
  });

  it("draws bars to scale in a standalone SVG, escaping labels", () => {
    const svg = barChartSvg("Scores <2026>", [
      { label: "A&B", value: 50, tone: "A" },
      { label: "C", value: 150, tone: "C" },
    ]);

    expect(svg).toContain("<title>Scores &#60;2026&#62;</title>");
    expect(svg).toContain('width="240.0" height="16" fill="#1a7f37"><title>A&#38;B: 50</title>');
    expect(svg).toContain('width="480.0"');
    expect(svg).not.toMatch(/<script|href=/);
  });
});
