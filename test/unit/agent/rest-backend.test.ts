import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RestBackend } from "../../../agent/backends/rest.ts";
import {
  BackendConfigError,
  BackendQueryError,
  BackendUnavailableError,
  type QueryRequest,
} from "../../../agent/backends/types.ts";
import type { ServedDataset } from "../../../domain/agent/config.ts";

/** What the agency's service saw of one call. */
interface Seen {
  readonly method: string;
  readonly rawPath: string;
  readonly authorization?: string;
  readonly body: string;
}

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let handler: Handler;

const people: Record<string, Record<string, unknown>> = {
  "P-1": { person_id: "P-1", display_name: "An", home_province: "HN", internal_flag: true },
  "A/B C?#é": { person_id: "A/B C?#é", display_name: "Odd", home_province: "HCM" },
};

/** The agency's service as the tests run it: records and a query, by source field names. */
const registry: Handler = (request, body, response) => {
  const json = (status: number, value: unknown) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(value));
  };
  const path = request.url ?? "/";
  if (request.method === "GET" && path.startsWith("/api/people/")) {
    const record = people[decodeURIComponent(path.slice("/api/people/".length))];
    return record ? json(200, record) : json(404, { error: "no such person" });
  }
  if (request.method === "POST" && path === "/api/people/search") {
    const { filters, cursor } = JSON.parse(body) as { filters: Record<string, unknown>; cursor?: string };
    if ("internal_flag" in filters) return json(400, { error: "internal_flag cannot be searched" });
    const matching = Object.values(people).filter((person) =>
      Object.entries(filters).every(([name, value]) => person[name] === value),
    );
    return cursor
      ? json(200, { items: matching.slice(1) })
      : json(200, { items: matching.slice(0, 1), nextCursor: "page-2" });
  }
  return json(404, { error: "no such route" });
};

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({
        method: request.method ?? "",
        rawPath: request.url ?? "",
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
        body,
      });
      handler(request, body, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  handler = registry;
});

const dataset: ServedDataset = {
  datasetId: "MOH.PEOPLE",
  backend: "registry",
  rest: {
    recordPath: "/people/{key}",
    queryPath: "/people/search",
    fields: { personId: "person_id", name: "display_name", province: "home_province" },
  },
};

function backend(overrides: { timeoutMs?: number; baseUrl?: string } = {}): RestBackend {
  return new RestBackend(
    "registry",
    {
      type: "rest",
      baseUrl: overrides.baseUrl ?? baseUrl,
      headers: { Authorization: "env:REGISTRY_TOKEN" },
      ...(overrides.timeoutMs ? { timeoutMs: overrides.timeoutMs } : {}),
    },
    { env: { REGISTRY_TOKEN: "Bearer internal-secret" } },
  );
}

const query = (overrides: Partial<QueryRequest> = {}): QueryRequest => ({
  dataset,
  filters: {},
  fields: [],
  limit: 10,
  ...overrides,
});

describe("the REST backend reading one record", () => {
  it("calls the record path with its credentials and maps the source's fields to the dataset's", async () => {
    const record = await backend().getRecord({ dataset, key: "P-1", fields: ["name", "province", "unknown"] });

    expect(record).toEqual({ name: "An", province: "HN" });
    expect(seen).toEqual([
      { method: "GET", rawPath: "/api/people/P-1", authorization: "Bearer internal-secret", body: "" },
    ]);
  });

  it("returns every mapped field, and no unmapped one, when no fields are asked for", async () => {
    expect(await backend().getRecord({ dataset, key: "P-1", fields: [] })).toEqual({
      personId: "P-1",
      name: "An",
      province: "HN",
    });
  });

  it("percent-encodes the key into one path segment", async () => {
    const record = await backend().getRecord({ dataset, key: "A/B C?#é", fields: ["personId"] });

    expect(record).toEqual({ personId: "A/B C?#é" });
    expect(seen[0]?.rawPath).toBe("/api/people/A%2FB%20C%3F%23%C3%A9");
  });

  it("never lets a key climb out of the record path", async () => {
    expect(await backend().getRecord({ dataset, key: "..", fields: [] })).toBeUndefined();
    expect(seen).toEqual([]);
  });

  it("takes a base URL written in any case, with a trailing slash", async () => {
    const record = await backend({ baseUrl: `${baseUrl.replace("http://", "HTTP://")}/` }).getRecord({
      dataset,
      key: "P-1",
      fields: ["name"],
    });

    expect(record).toEqual({ name: "An" });
  });

  it("returns undefined when the service answers 404", async () => {
    expect(await backend().getRecord({ dataset, key: "P-404", fields: [] })).toBeUndefined();
  });
});

describe("the REST backend querying", () => {
  it("posts the filters and fields by source names and maps the page back, passing the cursor on", async () => {
    const first = await backend().query(query({ fields: ["personId", "name"] }));
    const second = await backend().query(query({ fields: ["personId", "name"], cursor: first.nextCursor as string }));

    expect(first).toEqual({ items: [{ personId: "P-1", name: "An" }], nextCursor: "page-2" });
    expect(second).toEqual({ items: [{ personId: "A/B C?#é", name: "Odd" }] });
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({
      filters: {},
      fields: ["person_id", "display_name"],
      limit: 10,
    });
    expect(JSON.parse(seen[1]?.body ?? "")).toMatchObject({ cursor: "page-2" });
  });

  it("maps filters to the source's names", async () => {
    await backend().query(query({ filters: { province: "HCM" } }));

    expect(JSON.parse(seen[0]?.body ?? "")).toMatchObject({ filters: { home_province: "HCM" } });
  });

  it("refuses a filter on a field the mapping does not hold, without calling", async () => {
    await expect(backend().query(query({ filters: { internalFlag: true } }))).rejects.toThrow(
      new BackendQueryError("filters.internalFlag: not a field of this dataset here"),
    );
    expect(seen).toEqual([]);
  });

  it("reports a query the service refuses with 400 as the caller's", async () => {
    const mapped: ServedDataset = {
      ...dataset,
      rest: { ...(dataset.rest as NonNullable<ServedDataset["rest"]>), fields: { flag: "internal_flag" } },
    };

    await expect(backend().query(query({ dataset: mapped, filters: { flag: true } }))).rejects.toBeInstanceOf(
      BackendQueryError,
    );
  });
});

describe("the REST backend when the service fails", () => {
  it("reports a 5xx as unavailable", async () => {
    handler = (_request, _body, response) => {
      response.writeHead(503);
      response.end("maintenance");
    };

    await expect(backend().getRecord({ dataset, key: "P-1", fields: [] })).rejects.toThrow(
      /backend registry \(GET .*\/api\/people\/P-1\): answered 503: "maintenance"/,
    );
  });

  it("reads a key the service answers 400 to as no record", async () => {
    handler = (_request, _body, response) => {
      response.writeHead(400, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: "malformed id" }));
    };

    expect(await backend().getRecord({ dataset, key: "???", fields: [] })).toBeUndefined();
  });

  it("reports a query path the service does not have as unavailable, saying so", async () => {
    const misrouted: ServedDataset = {
      ...dataset,
      rest: { ...(dataset.rest as NonNullable<ServedDataset["rest"]>), queryPath: "/persons/search" },
    };

    await expect(backend().query(query({ dataset: misrouted }))).rejects.toThrow(
      /answered 404 \(is the path right\?\)/,
    );
  });

  it("reports a redirect as unavailable rather than following it", async () => {
    handler = (_request, _body, response) => {
      response.writeHead(302, { location: "http://example.invalid/login" });
      response.end();
    };

    await expect(backend().getRecord({ dataset, key: "P-1", fields: [] })).rejects.toThrow(/answered 302/);
  });

  it("fails its readiness check when the service answers 5xx", async () => {
    handler = (_request, _body, response) => {
      response.writeHead(500);
      response.end("down");
    };

    await expect(backend().check()).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it("reports an answer that is not JSON as unavailable, saying so", async () => {
    handler = (_request, _body, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end("<html>login</html>");
    };

    const error = await backend()
      .getRecord({ dataset, key: "P-1", fields: [] })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain("its answer is not JSON (text/html)");
  });

  it("reports a page that is not {items} as unavailable", async () => {
    handler = (_request, _body, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify([{ person_id: "P-1" }]));
    };

    await expect(backend().query(query())).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it("gives up after its timeout and reports unavailable", async () => {
    handler = () => undefined;

    const error = await backend({ timeoutMs: 100 })
      .getRecord({ dataset, key: "P-1", fields: [] })
      .catch((caught: unknown) => caught);
    server.closeAllConnections();

    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain("did not answer within 100 ms");
  });

  it("reports a refused connection as unavailable, for reads and its readiness check", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const down = backend({ baseUrl: `http://127.0.0.1:${port}/api` });

    await expect(down.getRecord({ dataset, key: "P-1", fields: [] })).rejects.toThrow(
      /cannot be reached: ECONNREFUSED/,
    );
    await expect(down.check()).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it("passes its readiness check when the service answers at all", async () => {
    await expect(backend().check()).resolves.toBeUndefined();
  });
});

describe("the REST backend's configuration", () => {
  it("refuses a record path without {key}, naming the setting", () => {
    const broken: ServedDataset = { ...dataset, rest: { recordPath: "/people" } };

    expect(() => backend().validate(broken)).toThrow(
      expect.objectContaining({ setting: "serves[MOH.PEOPLE].rest.recordPath" }),
    );
  });

  it("refuses a dataset without a rest mapping, naming the setting", () => {
    expect(() => backend().validate({ datasetId: "X.SQL", backend: "registry" })).toThrow(BackendConfigError);
  });

  it("names the header whose environment variable is missing", () => {
    expect(
      () =>
        new RestBackend(
          "registry",
          { type: "rest", baseUrl, headers: { Authorization: "env:REGISTRY_TOKEN" } },
          { env: {} },
        ),
    ).toThrow(expect.objectContaining({ setting: "backends.registry.headers.Authorization" }));
  });
});
