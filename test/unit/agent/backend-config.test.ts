import { describe, expect, it } from "vitest";
import { parseLocalBackend, resolveSecret, sqlPassword } from "../../../agent/backends/config.ts";
import { BackendConfigError } from "../../../agent/backends/types.ts";

function settingOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BackendConfigError);
    return (error as BackendConfigError).setting;
  }
  throw new Error("expected a BackendConfigError");
}

describe("a local backend entry", () => {
  it("takes a PostgreSQL backend whose password comes from the environment", () => {
    const parsed = parseLocalBackend("hr", {
      type: "sql",
      host: "db.internal",
      port: 5432,
      database: "hr",
      user: "dscp",
      passwordEnv: "HR_DB_PASSWORD",
      poolMax: 5,
      statementTimeoutMs: 2000,
    });

    expect(parsed).toMatchObject({ type: "sql", host: "db.internal", passwordEnv: "HR_DB_PASSWORD", poolMax: 5 });
  });

  it("takes a password written env:NAME", () => {
    const parsed = parseLocalBackend("hr", {
      type: "sql",
      host: "db",
      port: 5432,
      database: "hr",
      user: "dscp",
      password: "env:HR_DB_PASSWORD",
    });

    expect(parsed.type === "sql" && sqlPassword("hr", parsed, { HR_DB_PASSWORD: "s3cret" })).toBe("s3cret");
  });

  it("refuses a literal password, naming the setting", () => {
    const setting = settingOf(() =>
      parseLocalBackend("hr", { type: "sql", host: "db", port: 5432, database: "hr", user: "u", password: "hunter2" }),
    );

    expect(setting).toBe("backends.hr.password");
  });

  it("refuses a port out of range, naming the setting", () => {
    const setting = settingOf(() =>
      parseLocalBackend("hr", { type: "sql", host: "db", port: 70_000, database: "hr", user: "u" }),
    );

    expect(setting).toBe("backends.hr.port");
  });

  it("refuses an unknown backend type, naming the setting", () => {
    const setting = settingOf(() => parseLocalBackend("x", { type: "mysql", host: "db" }));

    expect(setting).toBe("backends.x.type");
  });

  it("takes a REST backend with headers from the environment", () => {
    const parsed = parseLocalBackend("registry", {
      type: "rest",
      baseUrl: "https://registry.internal/api",
      headers: { Authorization: "env:REGISTRY_TOKEN", "X-Source": "dscp" },
      timeoutMs: 3000,
    });

    expect(parsed).toMatchObject({ type: "rest", baseUrl: "https://registry.internal/api", timeoutMs: 3000 });
  });

  it("refuses a base URL that is not http or https, naming the setting", () => {
    const setting = settingOf(() => parseLocalBackend("registry", { type: "rest", baseUrl: "ftp://files.internal/" }));

    expect(setting).toBe("backends.registry.baseUrl");
  });

  it("names the variable when a secret's environment variable is not set", () => {
    expect(() => resolveSecret("env:MISSING_TOKEN", "backends.registry.headers.Authorization", {})).toThrow(
      /backends\.registry\.headers\.Authorization: environment variable MISSING_TOKEN is not set/,
    );
  });

  it("keeps a header value that names no variable as it is", () => {
    expect(resolveSecret("dscp", "backends.registry.headers.X-Source", {})).toBe("dscp");
  });
});
