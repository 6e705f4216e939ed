import { describe, expect, it } from "vitest";
import type { Dataset } from "../../../domain/catalog/model.ts";
import { DeliveryService } from "../../../domain/delivery/delivery-service.ts";
import { FanOut } from "../../../domain/delivery/fan-out.ts";
import type {
  DeliveryMessage,
  DeliveryQueue,
  DeliveryRecord,
  DeliveryState,
  DeliveryStore,
  Pusher,
  RecordChange,
  Subscription,
} from "../../../domain/delivery/model.ts";
import type { ExchangeEntry } from "../../../domain/exchange/model.ts";
import type { Permission } from "../../../domain/permissions/model.ts";
import type { Agency, SystemRecord } from "../../../domain/registry/model.ts";
import type { Batch } from "../../../domain/sync/model.ts";
import { permissionFixture } from "./fixtures.ts";

/*
 * The delivery rules on in-memory ports: what is retried when, what is dead-lettered, what is
 * refused, and that counts move once per message. The DynamoDB and SQS adapters run against the
 * emulators in the end-to-end suite (test/e2e/delivery.test.ts).
 */

const now = new Date("2026-11-27T08:00:00Z");
const dataset = {
  id: "MPS.POPULATION.REGISTER",
  providerSystem: "MPS.POPULATION",
  managingAgency: "MPS",
  methods: ["integrated", "sync"],
  crossBorderAllowed: false,
} as unknown as Dataset;
const subscription: Subscription = {
  id: "MPS.POPULATION.REGISTER@HCM.PORTAL",
  datasetId: dataset.id,
  consumerSystem: "HCM.PORTAL",
  consumerAgency: "HCM",
  delivery: "push",
  path: "/deliveries",
  fields: ["personalId", "province"],
  permissionId: "PRM-1",
  createdAt: now.toISOString(),
  createdBy: "HCM.PORTAL",
};
const permission = (overrides: Partial<Permission> = {}): Permission =>
  permissionFixture({
    datasetId: dataset.id,
    fields: ["personalId", "fullName", "province"],
    purposeClass: "state-management",
    methods: ["sync"],
    ...overrides,
  });
const change = (key: string, version = 1): RecordChange => ({
  key,
  version,
  op: "upsert",
  record: { personalId: key, fullName: "Nguyễn Văn An", province: "79", birthDate: "1990-01-01" },
  changedAt: now.toISOString(),
});
const batch = { batchId: "batch-0001", datasetId: dataset.id, providerSystem: "MPS.POPULATION", providerAgency: "MPS" };

function world(
  options: {
    permissions?: Permission[];
    answers?: number[];
    subscriptions?: Subscription[];
    endpointStatus?: SystemRecord["endpointStatus"];
  } = {},
) {
  const states = new Map<string, DeliveryRecord>();
  const counts: Array<Partial<Batch["deliveries"]>> = [];
  const sent: DeliveryMessage[] = [];
  const retried: Array<{ message: DeliveryMessage; delay: number }> = [];
  const dead: DeliveryMessage[] = [];
  const pushes: Array<Parameters<Pusher>[0]> = [];
  const log: ExchangeEntry[] = [];
  const answers = [...(options.answers ?? [])];
  const subscriptions = options.subscriptions ?? [subscription];
  const deliveries: DeliveryStore = {
    async register(_batch, record) {
      if (states.has(record.messageId)) return false;
      states.set(record.messageId, record);
      return true;
    },
    async get(_batchId, messageId) {
      return states.get(messageId);
    },
    async transition(_batchId, messageId, from: readonly DeliveryState[], to, changes) {
      const current = states.get(messageId);
      if (!current || !from.includes(current.state)) return false;
      states.set(messageId, { ...current, state: to, attempts: changes.attempts, updatedAt: changes.at });
      return true;
    },
    async attempted(_batchId, messageId, changes) {
      const current = states.get(messageId);
      if (current) states.set(messageId, { ...current, attempts: changes.attempts, lastError: changes.lastError });
    },
    async list() {
      return { items: [...states.values()] };
    },
    async deposit() {},
    async inbox() {
      return { items: [] };
    },
    async ack() {
      return [];
    },
  };
  const queue: DeliveryQueue = {
    async send(messages) {
      sent.push(...messages);
    },
    async retry(message, delay) {
      retried.push({ message, delay });
    },
    async deadLetter(message) {
      dead.push(message);
    },
    async redrive(max, prepare) {
      const moved: DeliveryMessage[] = [];
      for (const message of dead.splice(0, max)) {
        const again = await prepare(message);
        if (again) moved.push(again);
        else dead.push(message);
      }
      return moved;
    },
  };
  const batches = {
    async countDeliveries(_batchId: string, delta: Partial<Batch["deliveries"]>) {
      counts.push(delta);
    },
  };
  const fanOut = new FanOut({
    subscriptions: { ofDataset: async () => subscriptions },
    deliveries,
    batches,
    queue,
    now: () => now,
  });
  const service = new DeliveryService({
    catalog: { getDataset: async (id) => (id === dataset.id ? dataset : undefined) },
    registry: {
      getAgency: async (code) => ({ code, level: "provincial", country: "VN" }) as unknown as Agency,
      getSystem: async (id) => ({
        system: {
          id,
          agencyCode: "HCM",
          endpoint: "https://portal.hcm.gov.vn",
          endpointStatus: options.endpointStatus ?? "approved",
        } as unknown as SystemRecord,
        keys: [],
      }),
    },
    permissions: { permissionsOf: async () => options.permissions ?? [permission()] },
    subscriptions: {
      put: async () => undefined,
      get: async (id) => subscriptions.find((candidate) => candidate.id === id),
      delete: async () => true,
      ofDataset: async () => subscriptions,
      ofConsumer: async () => subscriptions,
    },
    deliveries,
    batches,
    queue,
    pusher: async (request) => {
      pushes.push(request);
      return { status: answers.shift() ?? 200, bytes: 10 };
    },
    log: async (entry) => {
      log.push(entry);
    },
    retry: { maxAttempts: 4, baseDelaySeconds: 30 },
    now: () => now,
  });
  return { service, fanOut, states, counts, sent, retried, dead, pushes, log };
}

const total = (counts: Array<Partial<Batch["deliveries"]>>, name: keyof Batch["deliveries"]) =>
  counts.reduce((sum, delta) => sum + (delta[name] ?? 0), 0);

describe("FanOut", () => {
  it("makes one message per subscriber and 100 records, with the subscription's fields and an idempotency key per version", async () => {
    const { fanOut, sent, counts } = world();
    const changes = Array.from({ length: 250 }, (_, index) => change(String(index).padStart(12, "0")));

    await fanOut.run(batch, "c0w0", changes);

    expect(sent.map((message) => [message.messageId, message.records.length])).toEqual([
      [expect.stringMatching(/^batch-0001\.c0w0\.HCM\.PORTAL\.0\.[0-9a-f]{16}$/), 100],
      [expect.stringMatching(/^batch-0001\.c0w0\.HCM\.PORTAL\.1\.[0-9a-f]{16}$/), 100],
      [expect.stringMatching(/^batch-0001\.c0w0\.HCM\.PORTAL\.2\.[0-9a-f]{16}$/), 50],
    ]);
    expect(sent[0]?.records[0]).toEqual({
      idempotencyKey: "MPS.POPULATION.REGISTER:000000000000:v1",
      key: "000000000000",
      version: 1,
      op: "upsert",
      record: { personalId: "000000000000", province: "79" },
      changedAt: now.toISOString(),
    });
    expect(total(counts, "expected")).toBe(250);
  });

  it("makes the same messages when a part is applied again, counting them once", async () => {
    const { fanOut, sent, counts } = world();

    await fanOut.run(batch, "c3w1", [change("001"), change("002")]);
    await fanOut.run(batch, "c3w1", [change("001"), change("002")]);

    expect(sent).toHaveLength(2);
    expect(sent[1]?.messageId).toBe(sent[0]?.messageId);
    expect(total(counts, "expected")).toBe(2);
  });

  it("gives a part's message an id of its own when it carries other record versions, counting each", async () => {
    const { fanOut, sent, counts } = world();

    await fanOut.run(batch, "c3w1", [change("001"), change("002")]);
    await fanOut.run(batch, "c3w1", [change("001"), change("002", 3)]);

    expect(new Set(sent.map((message) => message.messageId)).size).toBe(2);
    expect(total(counts, "expected")).toBe(4);
  });
});

describe("DeliveryService.deliver", () => {
  async function queued(options: Parameters<typeof world>[0] = {}) {
    const setup = world(options);
    await setup.fanOut.run(batch, "c0w0", [change("001"), { ...change("002", 2), op: "delete", record: {} }]);
    return { ...setup, message: setup.sent[0] as DeliveryMessage };
  }

  it("pushes the records to the subscription's path and counts them delivered once", async () => {
    const { service, message, pushes, counts, log } = await queued();

    expect(await service.deliver(message)).toBe("delivered");
    expect(await service.deliver(message)).toBe("duplicate");
    expect(pushes).toHaveLength(1);
    expect(pushes[0]).toMatchObject({
      consumerSystem: "HCM.PORTAL",
      endpoint: "https://portal.hcm.gov.vn",
      path: "/deliveries",
    });
    expect(total(counts, "delivered")).toBe(2);
    expect(log).toEqual([
      expect.objectContaining({
        operation: "sync-delivery",
        outcome: "allowed",
        recordCount: 2,
        fieldsReturned: ["personalId", "province"],
        permissionId: "PRM-1",
        attempt: 1,
      }),
    ]);
  });

  it("retries a failed push after a wait that doubles, then dead-letters it", async () => {
    const { service, message, retried, dead, states, counts, log } = await queued({ answers: [503, 500, 502, 500] });

    let next = message;
    const outcomes: string[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      outcomes.push(await service.deliver(next));
      next = retried.at(-1)?.message ?? next;
    }

    expect(outcomes).toEqual(["retrying", "retrying", "retrying", "dead-lettered"]);
    expect(retried.map(({ message: retry, delay }) => [retry.attempt, delay])).toEqual([
      [2, 30],
      [3, 60],
      [4, 120],
    ]);
    expect(dead.map((letter) => letter.attempt)).toEqual([4]);
    expect(states.get(message.messageId)).toMatchObject({ state: "failed", attempts: 4 });
    expect(total(counts, "failed")).toBe(2);
    expect(log.map((entry) => [entry.outcome, entry.status, entry.attempt])).toEqual([
      ["failed", 503, 1],
      ["failed", 500, 2],
      ["failed", 502, 3],
      ["failed", 500, 4],
    ]);
  });

  it("redrives a dead letter from its first attempt, counting it pending again, and delivers it once", async () => {
    const { service, message, counts, retried, dead } = await queued({ answers: [500, 500, 500, 500] });
    let next = message;
    for (let attempt = 1; attempt <= 4; attempt++) {
      await service.deliver(next);
      next = retried.at(-1)?.message ?? next;
    }
    const operator = {
      systemId: "NDC.OPERATOR",
      agencyCode: "NDC",
      roles: ["platform-admin"],
      capabilities: [],
      kid: "k",
    };
    const consumer = { systemId: "HCM.PORTAL", agencyCode: "HCM", roles: [], capabilities: ["consumer"], kid: "k" };

    await expect(service.redrive(consumer as never, {})).rejects.toMatchObject({ status: 403 });
    const left = await service.redrive(operator as never, { consumerSystem: "DN.PORTAL" });
    const moved = await service.redrive(operator as never, { consumerSystem: "HCM.PORTAL" });

    expect(left.redriven).toBe(0);
    expect(moved).toEqual({ redriven: 1, messages: [message.messageId] });
    expect(dead).toEqual([]);
    expect(await service.deliver({ ...message, attempt: 1 })).toBe("delivered");
    expect(total(counts, "failed")).toBe(0);
    expect(total(counts, "delivered")).toBe(2);
  });

  it("pushes nothing to an endpoint the operator has not approved, logs it and tries again later", async () => {
    const { service, message, pushes, retried, log } = await queued({ endpointStatus: "pending" });

    expect(await service.deliver(message)).toBe("retrying");
    expect(pushes).toHaveLength(0);
    expect(retried).toHaveLength(1);
    expect(log).toEqual([
      expect.objectContaining({
        outcome: "failed",
        status: 503,
        problemType: "urn:dscp:problem:endpoint-not-approved",
      }),
    ]);
  });

  it("refuses, without pushing, once the permission is revoked, and logs the refusal", async () => {
    const { service, message, pushes, counts, log } = await queued({
      permissions: [permission({ status: "revoked" })],
    });

    expect(await service.deliver(message)).toBe("refused");
    expect(pushes).toEqual([]);
    expect(total(counts, "refused")).toBe(2);
    expect(log[0]).toMatchObject({
      outcome: "denied",
      status: 403,
      problemType: expect.stringContaining("access:permission-revoked"),
    });
  });

  it("logs a push the consumer answered with a 4xx as failed, with that status, and tries again later", async () => {
    const { service, message, retried, log } = await queued({ answers: [400] });

    expect(await service.deliver(message)).toBe("retrying");
    expect(retried).toHaveLength(1);
    expect(log).toEqual([
      expect.objectContaining({
        outcome: "failed",
        status: 400,
        problemType: "urn:dscp:problem:delivery-failed",
        recordCount: 0,
        fieldsReturned: [],
      }),
    ]);
  });

  it("refuses a message whose dataset is gone, and logs it denied as not found", async () => {
    const { service, message, pushes, log } = await queued();

    expect(await service.deliver({ ...message, datasetId: "MPS.POPULATION.GONE" })).toBe("refused");
    expect(pushes).toEqual([]);
    expect(log).toEqual([
      expect.objectContaining({ outcome: "denied", status: 404, problemType: "urn:dscp:problem:not-found" }),
    ]);
  });

  it("refuses a message whose subscription has ended", async () => {
    const setup = world();
    await setup.fanOut.run(batch, "c0w0", [change("001")]);
    const ended = world({ subscriptions: [] });
    await ended.fanOut.run(batch, "c0w0", [change("001")]);

    expect(await ended.service.deliver(setup.sent[0] as DeliveryMessage)).toBe("refused");
  });
});
