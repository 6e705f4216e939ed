import { describe, expect, it } from "vitest";
import {
  billedMs,
  costPerMillion,
  defaultSampledShare,
  type ExportResult,
  exportCounts,
  type PriceName,
  type PriceTable,
  recordsLine,
  type WorkCounts,
} from "../../../bench/cost-model.ts";

const names: PriceName[] = [
  "apiGatewayRestRequest",
  "wafRequest",
  "lambdaRequest",
  "lambdaArmGbSecond",
  "dynamodbReadRequestUnit",
  "dynamodbWriteRequestUnit",
  "sqsFifoRequest",
  "sqsStandardRequest",
  "kmsAsymmetricRequest",
  "kmsSymmetricRequest",
  "cloudWatchLogsIngestedGb",
  "xrayTraceRecorded",
  "s3PutRequest",
  "s3GetRequest",
  "s3StandardGbMonth",
  "stepFunctionsStateTransition",
];

/** Every price zero but those given (dollars per unit). */
const table = (given: Partial<Record<PriceName, number>>): PriceTable => ({
  region: "us-east-1",
  takenOn: "2026-11-30",
  prices: Object.fromEntries(
    names.map((name) => [name, { usd: given[name] ?? 0, unit: name, source: "https://aws.amazon.com/" }]),
  ) as PriceTable["prices"],
});

const nothing: WorkCounts = {
  apiRequests: 0,
  functions: {},
  awsCalls: {},
  logBytes: 0,
  traces: 0,
  stateTransitions: 0,
  sqsFifo: false,
};

describe("costPerMillion", () => {
  it("multiplies each count by its price and states it per million units of work, by service", () => {
    const cost = costPerMillion(
      {
        ...nothing,
        apiRequests: 1,
        awsCalls: {
          "kms:Sign": 1,
          "kms:Decrypt": 2,
          "dynamodb:Query": 3,
          "dynamodb:ReadRequestUnits": 12,
          "dynamodb:WriteRequestUnits": 2,
          "sqs:SendMessage": 1,
          "sqs:ReceiveMessage": 0.5,
          "s3:GetObject": 2,
          "s3:PutObject": 1,
          "s3:DeleteObject": 1,
          "lambda:Invoke": 1,
        },
        sqsFifo: true,
      },
      {},
      table({
        apiGatewayRestRequest: 3.5e-6,
        kmsAsymmetricRequest: 15e-6,
        kmsSymmetricRequest: 3e-6,
        dynamodbReadRequestUnit: 0.125e-6,
        dynamodbWriteRequestUnit: 0.625e-6,
        sqsFifoRequest: 0.5e-6,
        sqsStandardRequest: 100,
        s3GetRequest: 0.4e-6,
        s3PutRequest: 5e-6,
      }),
    );

    expect(cost.byService).toEqual({ kms: 21, s3: 5.8, apiGateway: 3.5, dynamodb: 2.75, sqs: 0.75 });
    expect(cost.total).toBe(33.8);
  });

  it("bills Lambda per request and per GB-second, CPU stretched to the memory's share of a vCPU, waits added", () => {
    const counts: WorkCounts = {
      ...nothing,
      functions: {
        Exchange: { invocations: 1, cpuMs: 10, waitMs: 20 },
        Big: { invocations: 0.5, cpuMs: 4, waitMs: 0 },
      },
    };
    const cost = costPerMillion(
      counts,
      { Exchange: 512, Big: 2048 },
      table({ lambdaRequest: 0.2e-6, lambdaArmGbSecond: 1e-5 }),
    );
    // Exchange: 10 × 1769/512 + 20 = 54.55 ms at 0.5 GB; Big: 4 ms (a full vCPU) at 2 GB.
    const gbSeconds = (54.551 / 1000) * 0.5 + (4 / 1000) * 2;
    expect(cost.byService.lambda).toBeCloseTo((1.5 * 0.2e-6 + gbSeconds * 1e-5) * 1e6, 2);
  });

  it("prices logs per GB ingested, traces recorded, state transitions and standard queues", () => {
    const cost = costPerMillion(
      { ...nothing, logBytes: 1024 ** 3 / 1e6, traces: 0.5, stateTransitions: 4, awsCalls: { "sqs:SendMessage": 2 } },
      {},
      table({
        cloudWatchLogsIngestedGb: 0.5,
        xrayTraceRecorded: 5e-6,
        stepFunctionsStateTransition: 25e-6,
        sqsStandardRequest: 0.4e-6,
        sqsFifoRequest: 100,
      }),
    );
    expect(cost.byService).toEqual({ stepFunctions: 100, xray: 2.5, sqs: 0.8, cloudWatchLogs: 0.5 });
  });

  it("refuses a function whose memory size it does not know", () => {
    expect(() =>
      costPerMillion({ ...nothing, functions: { Missing: { invocations: 1, cpuMs: 1, waitMs: 0 } } }, {}, table({})),
    ).toThrow(/Missing/);
  });
});

describe("billedMs and defaultSampledShare", () => {
  it("never bills less than the CPU time, and samples the reservoir and 5% of the rest", () => {
    expect(billedMs(10, 0, 1769)).toBe(10);
    expect(billedMs(10, 5, 3538)).toBe(15);
    expect(billedMs(10, 0, 884.5)).toBe(20);
    expect(defaultSampledShare(1)).toBe(1);
    expect(defaultSampledShare(101)).toBeCloseTo(6 / 101, 10);
  });
});

describe("exportCounts", () => {
  /** One export of 1,000 records as bench:export-api saves it, per record. */
  const measured: ExportResult = {
    records: 1000,
    measuredAt: "2026-11-30T05:00:00.000Z",
    apiRequestsPerRecord: 0.002,
    invocationsPerRecord: {
      ExportJob: { count: 0.001, cpuMs: 0.5 },
      ExchangeLogAppender: { count: 0.001, cpuMs: 0.01 },
    },
    awsCallsPerRecord: {
      "dynamodb:Query": 0.01,
      "dynamodb:ReadRequestUnits": 0.05,
      "dynamodb:WriteRequestUnits": 0.003,
      "kms:Sign": 0.001,
      "s3:PutObject": 0.001,
      "states:StartExecution": 0.001,
    },
    awsCallsPerRecordByCaller: {
      ExchangeLogAppender: {
        "dynamodb:PutItem": 0.001,
        "dynamodb:UpdateItem": 0.001,
        "dynamodb:WriteRequestUnits": 0.002,
      },
    },
    stateTransitionsPerRecord: 0.002,
    logBytesPerRecord: 10,
    packageBytesPerRecord: 1024 ** 3 / 1e6,
  };
  const estimates = {
    executionLogBytesPerRequest: 1000,
    platformLogBytesPerInvocation: 500,
    stateMachineLogBytesPerTransition: 1500,
    sampledShare: 0.5,
    logTableIndexes: 3,
    packageRetentionDays: 365 / 12,
  };

  it("adds the consumer's download, the log table's index writes, unseen logs, traces and the package's storage", () => {
    const counts = exportCounts(measured, estimates);

    expect(counts.apiRequests).toBe(0.002);
    expect(counts.functions.ExportJob).toEqual({ invocations: 0.001, cpuMs: 0.5, waitMs: 0 });
    expect(counts.awsCalls["s3:GetObject"]).toBeCloseTo(0.001, 10);
    // The appender's entry (one unit of its two; the other is the chain head) written again to 3 indexes.
    expect(counts.awsCalls["dynamodb:WriteRequestUnits"]).toBeCloseTo(0.003 + 3 * 0.001, 10);
    expect(counts.logBytes).toBeCloseTo(10 + 0.002 * 1000 + 0.002 * 500 + 0.002 * 1500, 10);
    expect(counts.traces).toBeCloseTo(0.5 * (0.002 + 0.001), 10);
    expect(counts.stateTransitions).toBe(0.002);
    expect(counts.storedGbMonths).toBeCloseTo(1e-6, 12);
  });

  it("prices a record exported per million: requests, units, transitions and a month of storage", () => {
    const cost = costPerMillion(
      exportCounts(measured, estimates),
      { ExportJob: 1769, ExchangeLogAppender: 1769 },
      table({
        s3PutRequest: 5e-6,
        s3GetRequest: 0.4e-6,
        s3StandardGbMonth: 0.023,
        kmsAsymmetricRequest: 15e-6,
        dynamodbReadRequestUnit: 0.125e-6,
        stepFunctionsStateTransition: 25e-6,
      }),
    );

    // Per record × 1e6: 0.002 transitions, 1e-6 GB-months, 0.001 Sign, 0.05 read units, a PUT and a GET per 1,000.
    expect(cost.byService).toEqual({
      stepFunctions: 0.05,
      s3Storage: 0.023,
      kms: 0.015,
      dynamodb: 0.00625,
      s3: 0.0054,
    });
    expect(cost.total).toBeCloseTo(0.09965, 4);
  });
});

describe("recordsLine", () => {
  it("gives dollars per million records synced and exported with the runs they come from", () => {
    const line = recordsLine({
      synced: { usd: 1.9, measuredAt: "2026-11-30T01:00:00.000Z", records: 20000 },
      exported: {
        usd: 0.0141,
        storageUsd: 0.000201,
        retentionDays: 30,
        measuredAt: "2026-11-30T05:00:00.000Z",
        records: 20000,
      },
    });

    expect(line).toContain(
      "Per million records synced (`npm run bench:sync` of 2026-11-30, one batch of 20000 records",
    );
    expect(line).toContain("$1.90.");
    expect(line).toContain(
      "Per million records exported (`npm run bench:export-api` of 2026-11-30, one export of 20000 records, downloaded once): $0.014, of which $0.0002 is the packages' storage for the 30 days they are kept.",
    );
  });

  it("says how to measure what was not measured", () => {
    expect(recordsLine({})).toBe(
      "Per million records synced: not measured yet (run `npm run bench:sync`, then `npm run cost`). Per million records exported: not measured yet (run `npm run bench:export-api`, then `npm run cost`).",
    );
  });
});
