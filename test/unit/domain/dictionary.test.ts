import { describe, expect, it } from "vitest";
import { breakingChanges, compareVersions, compileSchema } from "../../../domain/dictionary/json-schema.ts";
import type { Field, FieldUse } from "../../../domain/dictionary/model.ts";
import { RecordValidator } from "../../../domain/dictionary/validator.ts";

const at = "2026-01-01T00:00:00.000Z";
const field = (code: string, definition: Partial<Field>): Field => ({
  code,
  name: code,
  nameEn: code,
  description: `the ${code}`,
  type: "string",
  relationships: [],
  owner: "NDC",
  status: "published",
  createdAt: at,
  updatedAt: at,
  revision: 1,
  ...definition,
});
const fields = new Map(
  [
    field("personalId", { pattern: "^[0-9]{12}$" }),
    field("fullName", { maxLength: 100 }),
    field("birthDate", { type: "date" }),
    field("gender", { type: "code", codeList: "GENDER" }),
    field("heightCm", { type: "number", minimum: 0, maximum: 300, unit: "cm" }),
  ].map((value) => [value.code, value]),
);
const codes = new Map([["GENDER", ["male", "female", "other"]]]);
const uses = (...list: Array<[string, boolean?]>): FieldUse[] =>
  list.map(([code, required]) => ({ field: code, required: required ?? false, multiple: false }));
const compile = (list: FieldUse[], version = "1.0.0", codeLists = codes, defs = fields) =>
  compileSchema(
    { id: "MPS.CITIZEN", version, title: "Citizen", fields: list, keyFields: ["personalId"] },
    defs,
    codeLists,
  );

describe("compiling a schema version", () => {
  it("makes a closed JSON Schema 2020-12 object of the fields, key fields required, code lists inlined", () => {
    const schema = compile(uses(["personalId"], ["fullName", true], ["gender"], ["heightCm"]));

    expect(schema).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "urn:dscp:schema:MPS.CITIZEN:1.0.0",
      type: "object",
      required: ["personalId", "fullName"],
      additionalProperties: false,
      "x-keyFields": ["personalId"],
      properties: {
        personalId: { type: "string", pattern: "^[0-9]{12}$" },
        gender: { type: "string", enum: ["male", "female", "other"], "x-codeList": "GENDER" },
        heightCm: { type: "number", minimum: 0, maximum: 300, "x-unit": "cm" },
      },
    });
  });
});

describe("validating records", () => {
  const validator = new RecordValidator();
  const schema = compile(uses(["personalId"], ["fullName", true], ["birthDate"], ["gender"], ["heightCm"]));
  const check = validator.check(schema);

  it("accepts a conforming record", () => {
    expect(
      check({ personalId: "001200000001", fullName: "Lê Văn An", birthDate: "1990-02-28", gender: "male" }),
    ).toEqual([]);
  });

  it("reports every offending path with the rule it broke", () => {
    const errors = check({ personalId: "12", birthDate: "1990-02-30", gender: "x", heightCm: -1, nickname: "An" });

    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "fullName", rule: "required" }),
        expect.objectContaining({ path: "personalId", rule: "pattern" }),
        expect.objectContaining({ path: "birthDate", rule: "format" }),
        expect.objectContaining({
          path: "gender",
          rule: "enum",
          message: "must be one of the allowed values (male, female, other)",
        }),
        expect.objectContaining({ path: "heightCm", rule: "minimum" }),
        expect.objectContaining({ path: "nickname", rule: "additionalProperties" }),
      ]),
    );
    expect(errors).toHaveLength(6);
  });

  it("does not call a field missing when the record was asked for other fields only", () => {
    const partial = validator.check(schema, ["personalId", "gender"]);

    expect(partial({ personalId: "001200000001", gender: "female" })).toEqual([]);
    expect(partial({ personalId: "001200000001", gender: "?" })).toEqual([
      expect.objectContaining({ path: "gender", rule: "enum" }),
    ]);
  });
});

describe("compatibility of a new version", () => {
  const v1 = compile(uses(["personalId"], ["fullName"], ["gender"], ["heightCm"]));

  it("allows adding an optional field, more codes, looser bounds and a field no longer required", () => {
    const wider = new Map([["GENDER", ["male", "female", "other", "unknown"]]]);
    const looser = new Map(fields).set("heightCm", field("heightCm", { type: "number", minimum: 0, maximum: 350 }));
    const next = compile(
      uses(["personalId"], ["fullName"], ["gender"], ["heightCm"], ["birthDate"]),
      "1.1.0",
      wider,
      looser,
    );

    expect(breakingChanges(v1, next)).toEqual([]);
  });

  it("names each breaking change: removed, newly required, retyped, fewer codes, tighter bounds", () => {
    const narrower = new Map([["GENDER", ["male", "female"]]]);
    const changed = new Map(fields)
      .set("heightCm", field("heightCm", { type: "integer", minimum: 0, maximum: 250 }))
      .set("fullName", field("fullName", { maxLength: 50 }));
    const next = compile(
      uses(["personalId"], ["fullName", true], ["gender"], ["heightCm"], ["birthDate", true]),
      "1.1.0",
      narrower,
      changed,
    );

    expect(breakingChanges(v1, next)).toEqual([
      { name: "fields/fullName", reason: "now required" },
      { name: "fields/fullName", reason: "maxLength tightened from 100 to 50" },
      { name: "fields/gender", reason: "values no longer allowed: other" },
      { name: "fields/heightCm", reason: "type changed from number to integer" },
      { name: "fields/heightCm", reason: "maximum tightened from 300 to 250" },
      { name: "fields/birthDate", reason: "added as required" },
    ]);
    expect(breakingChanges(v1, compile(uses(["personalId"], ["fullName"])))).toEqual([
      { name: "fields/gender", reason: "removed" },
      { name: "fields/heightCm", reason: "removed" },
    ]);
  });

  it("orders versions numerically", () => {
    expect(compareVersions("1.10.0", "1.9.3")).toBeGreaterThan(0);
    expect(compareVersions("2.0.0", "2.0.0")).toBe(0);
    expect(compareVersions("0.9.9", "1.0.0")).toBeLessThan(0);
  });
});
