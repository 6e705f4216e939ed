import { describe, expect, it } from "vitest";
import { createBackend } from "../../../agent/backends/index.ts";
import { BackendConfigError } from "../../../agent/backends/types.ts";

describe("creating a backend from the local file's entry", () => {
  it("makes a PostgreSQL backend for a sql entry", async () => {
    const backend = createBackend("hr", { type: "sql", host: "127.0.0.1", port: 5432, database: "hr", user: "dscp" });

    expect({ name: backend.name, type: backend.type }).toEqual({ name: "hr", type: "sql" });
    await backend.close();
  });

  it("makes a REST backend for a rest entry", async () => {
    const backend = createBackend("registry", { type: "rest", baseUrl: "http://127.0.0.1:9/api" });

    expect({ name: backend.name, type: backend.type }).toEqual({ name: "registry", type: "rest" });
    await backend.close();
  });

  it("validates the datasets it serves, naming a misconfigured setting", () => {
    const create = () =>
      createBackend(
        "hr",
        { type: "sql", host: "127.0.0.1", port: 5432, database: "hr", user: "dscp" },
        { served: [{ datasetId: "MOHA.STAFF", backend: "hr", sql: { table: "staff", keyColumn: "Id", fields: {} } }] },
      );

    expect(create).toThrow(BackendConfigError);
    expect(create).toThrow(expect.objectContaining({ setting: "serves[MOHA.STAFF].sql.keyColumn" }));
  });

  it("names a password variable that is not set", () => {
    expect(() =>
      createBackend(
        "hr",
        { type: "sql", host: "127.0.0.1", port: 5432, database: "hr", user: "dscp", passwordEnv: "HR_PASSWORD" },
        { env: {} },
      ),
    ).toThrow(expect.objectContaining({ setting: "backends.hr.passwordEnv" }));
  });
});
