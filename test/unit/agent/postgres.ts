import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import pg from "pg";
import type { SqlBackendConfig } from "../../../agent/backends/config.ts";

/**
 * A real PostgreSQL engine for the Agent Node's tests: PGlite (PostgreSQL compiled to WASM) behind
 * its wire-protocol socket server, reached with the standard `pg` driver as a node reaches its
 * agency's database. One engine per test file. The socket server takes `maxConnections` clients at
 * once (its default is one); it runs their statements one at a time and keeps another client's
 * statements waiting while one client's transaction is open, so concurrent transactions serialise
 * rather than interleave. Starting an engine takes seconds on a busy machine: give the hooks
 * that do {@link PGLITE_HOOK_TIMEOUT}, and the tests {@link PGLITE_TEST_TIMEOUT}.
 */
export const PGLITE_HOOK_TIMEOUT = 60_000;
/** For tests of a file on such an engine: each runs a few statements, which a loaded machine may slow. */
export const PGLITE_TEST_TIMEOUT = 30_000;

export interface TestPostgres {
  readonly db: PGlite;
  readonly port: number;
  /** A local backend entry pointing at this engine. */
  backend(overrides?: Partial<SqlBackendConfig>): SqlBackendConfig;
  /** A pool on this engine; closed by `stop`. */
  pool(max?: number): pg.Pool;
  /**
   * A pool whose connection is cut, as when the node is killed, right after the `count`-th
   * statement holding `marker` has run: a transaction it is in is left open on the server, which
   * rolls it back.
   */
  poolCutAfter(marker: string, count: number): pg.Pool;
  /** Stops accepting and drops every connection: the database is "down". */
  stopServer(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPostgres(maxConnections = 4): Promise<TestPostgres> {
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, port: 0, host: "127.0.0.1", maxConnections });
  await server.start();
  const port = Number(String(server.getServerConn()).split(":").pop());
  const pools: pg.Pool[] = [];
  let serving = true;
  const newPool = (max = 1) => {
    const pool = new pg.Pool({ host: "127.0.0.1", port, user: "postgres", database: "postgres", max });
    pool.on("error", () => undefined);
    pools.push(pool);
    return pool;
  };
  return {
    db,
    port,
    backend: (overrides = {}) => ({
      type: "sql",
      host: "127.0.0.1",
      port,
      database: "postgres",
      user: "postgres",
      poolMax: 1,
      ...overrides,
    }),
    pool: newPool,
    poolCutAfter: (marker, count) => {
      const pool = newPool();
      let seen = 0;
      const wrapped = new WeakSet<pg.PoolClient>();
      pool.on("acquire", (client: pg.PoolClient) => {
        if (wrapped.has(client)) return;
        wrapped.add(client);
        const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
        (client as unknown as { query: typeof query }).query = async (...args) => {
          const result = await query(...args);
          if (String(args[0]).includes(marker) && ++seen === count) {
            (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
          }
          return result;
        };
      });
      return pool;
    },
    stopServer: async () => {
      if (!serving) return;
      serving = false;
      await server.stop();
    },
    stop: async () => {
      await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
      if (serving) await server.stop();
      await db.close();
    },
  };
}
