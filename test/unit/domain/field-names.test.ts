import { describe, expect, it } from "vitest";
import { type Dataset, dataKeyOf } from "../../../domain/catalog/model.ts";
import { breakingChanges } from "../../../domain/dictionary/json-schema.ts";
import type { JsonSchema } from "../../../domain/dictionary/model.ts";
import { RecordValidator } from "../../../domain/dictionary/validator.ts";
import { auditDataset } from "../../../domain/oversight/audit.ts";
import { pick } from "../../../domain/permissions/projection.ts";
import type { StoredRecord } from "../../../domain/sync/model.ts";
import { streamOf } from "./fixtures.ts";

// Field names are camelCase: `constructor`, `toString` and `valueOf` are valid ones, and every
// plain object inherits a member of that name. A record's fields are its own properties only.

describe("fields named like Object.prototype members", () => {
  it("are not picked from a record that lacks them", () => {
    expect(pick({ personalId: "1" }, ["personalId", "toString", "constructor"])).toEqual({ personalId: "1" });
  });

  it("make an empty data key part when missing, not the inherited function", () => {
    expect(dataKeyOf({ personalId: "1" }, ["personalId", "constructor"])).toBe("1|");
  });

  it("are optional like any field: a record without them conforms", () => {
    const schema: JsonSchema = {
      type: "object",
      properties: { personalId: { type: "string" }, constructor: { type: "string" }, toString: { type: "string" } },
      required: ["personalId"],
      additionalProperties: false,
    };

    expect(new RecordValidator().check(schema)({ personalId: "1" })).toEqual([]);
  });

  it("are reported missing when required", () => {
    const schema: JsonSchema = {
      type: "object",
      properties: { valueOf: { type: "string" } },
      required: ["valueOf"],
    };

    expect(new RecordValidator().check(schema)({})).toEqual([
      expect.objectContaining({ path: "valueOf", rule: "required" }),
    ]);
  });

  it("are a breaking change when removed from a schema, and none when added as optional", () => {
    const base: JsonSchema = { type: "object", properties: { personalId: { type: "string" } }, required: [] };
    const withToString: JsonSchema = {
      ...base,
      properties: { personalId: { type: "string" }, toString: { type: "string" } },
    };

    expect(breakingChanges(withToString, base)).toEqual([{ name: "fields/toString", reason: "removed" }]);
    expect(breakingChanges(base, withToString)).toEqual([]);
  });

  it("count as missing in an audit when records lack them", async () => {
    const dataset = {
      id: "MPS.POPULATION.CITIZENS",
      keyFields: ["personalId"],
      fields: ["personalId", "valueOf"].map((name) => ({ name, type: "string" as const, personal: false })),
      updateFrequency: "P1D",
    } as unknown as Dataset;
    const record: StoredRecord = {
      datasetId: dataset.id,
      key: "1",
      record: { personalId: "1" },
      version: 1,
      deleted: false,
      sourceBatch: "b",
      updatedAt: "2026-11-27T00:00:00.000Z",
    };

    const report = await auditDataset({
      dataset,
      records: streamOf([record]),
      permissions: [],
      entries: streamOf([]),
      staleAfter: "P365D",
      accessWindow: "P90D",
      now: new Date("2026-11-27T12:00:00.000Z"),
    });

    expect(report.completeness.fields).toContainEqual(expect.objectContaining({ field: "valueOf", present: 0 }));
  });
});
