import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guardedHttp, type Resolver } from "../../../adapters/http/guarded-request.ts";
import { EndpointRefusedError, endpointPolicy } from "../../../domain/registry/endpoint-policy.ts";

/* Calls to agencies' endpoints go only to addresses the policy allows, checked when the socket connects. */

const seen: IncomingMessage[] = [];
let server: Server;
let port: number;
const local = endpointPolicy("local");
const request = { method: "GET" as const, headers: {}, timeoutMs: 5_000, maxBytes: 1024 };
/** A resolver that answers `addresses` for every name, counting how often it is asked. */
const resolving = (...addresses: string[]): Resolver & { calls: number } => {
  const resolver = Object.assign(
    async () => {
      resolver.calls++;
      return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    },
    { calls: 0 },
  );
  return resolver;
};

beforeAll(async () => {
  server = createServer((incoming, response) => {
    seen.push(incoming);
    if (incoming.url === "/redirect") response.writeHead(302, { Location: "http://169.254.169.254/" }).end();
    else response.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("a guarded call", () => {
  it("connects to the address the checked lookup answered for the endpoint's name", async () => {
    const before = seen.length;
    const send = guardedHttp(local, resolving("127.0.0.1"));

    const response = await send(new URL(`http://provider.example.gov.vn:${port}/citizens`), request);

    expect(response.status).toBe(200);
    expect(seen.length).toBe(before + 1);
    expect(seen.at(-1)?.headers.host).toBe(`provider.example.gov.vn:${port}`);
  });

  it("refuses a name that resolves to a private address at call time, whatever it was at registration", async () => {
    const before = seen.length;
    const send = guardedHttp(local, resolving("10.0.0.7"));

    const call = send(new URL(`http://provider.example.gov.vn:${port}/citizens`), request);

    await expect(call).rejects.toBeInstanceOf(EndpointRefusedError);
    await expect(call).rejects.toThrow(/resolves to 10\.0\.0\.7, a private/);
    expect(seen.length).toBe(before);
  });

  it("refuses a name when any one of its addresses is refused", async () => {
    const send = guardedHttp(local, resolving("127.0.0.1", "169.254.169.254"));

    await expect(send(new URL(`http://rebound.example.gov.vn:${port}/`), request)).rejects.toThrow(/cloud metadata/);
  });

  it("refuses a metadata address written as a literal in any encoding, without resolving it", async () => {
    const resolver = resolving("127.0.0.1");
    const send = guardedHttp(local, resolver);

    for (const host of ["169.254.169.254", "2852039166", "0xa9fea9fe", "[::ffff:169.254.169.254]", "[fd00:ec2::254]"]) {
      await expect(send(new URL(`http://${host}/latest/meta-data/`), request)).rejects.toBeInstanceOf(
        EndpointRefusedError,
      );
    }
    expect(resolver.calls).toBe(0);
  });

  it("calls https endpoints on public addresses only, outside the local stage", async () => {
    const resolver = resolving("127.0.0.1");
    const send = guardedHttp(endpointPolicy("prod"), resolver);

    await expect(send(new URL(`http://provider.example.gov.vn:${port}/`), request)).rejects.toThrow(/https/);
    await expect(send(new URL(`https://127.0.0.1:${port}/`), request)).rejects.toThrow(/loopback/);
    await expect(send(new URL(`https://provider.example.gov.vn:${port}/`), request)).rejects.toThrow(/loopback/);
  });

  it("sends no credentials written into an endpoint", async () => {
    const send = guardedHttp(local, resolving("127.0.0.1"));

    await expect(send(new URL(`http://user:secret@127.0.0.1:${port}/`), request)).rejects.toThrow(/credentials/);
  });

  it("does not follow a redirect", async () => {
    const send = guardedHttp(local, resolving("127.0.0.1"));

    const response = await send(new URL(`http://127.0.0.1:${port}/redirect`), request);

    expect(response.status).toBe(302);
    expect(seen.at(-1)?.url).toBe("/redirect");
  });
});
