import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { RetentionDays } from "aws-cdk-lib/aws-logs";

/** Deployment stages. `local` is the embedded runtime and LocalStack; `prod` keeps data on delete. */
export const STAGES = ["local", "dev", "prod"] as const;
export type StageName = (typeof STAGES)[number];

/** Everything that differs between stages, decided in one place. */
export interface StageConfig {
  readonly name: StageName;
  /** Tables, buckets, keys, queues and log groups: destroyed with their stack outside prod, retained in prod. */
  readonly removalPolicy: RemovalPolicy;
  /** Retention of function, API access and execution logs. */
  readonly logRetention: RetentionDays;
  /** Steady-state request rate and burst allowed per API stage. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Deletion protection on tables. */
  readonly deletionProtection: boolean;
  /** How long the KMS key waits before deletion once scheduled. */
  readonly keyPendingWindow: Duration;
  /**
   * Pushes to a consumer: attempts before its message is dead-lettered, and the wait before the
   * second (doubling each time, at most 15 minutes). Locally short, so tests see the whole cycle.
   */
  readonly delivery: { readonly maxAttempts: number; readonly baseDelay: Duration };
  /**
   * How long each object of the log archive (signed checkpoints and the entries they cover) is
   * locked in compliance mode: nobody, the account's root included, can delete or overwrite it
   * before then. Short outside prod, so a dev stack's archive can be emptied soon after.
   */
  readonly logArchiveRetention: Duration;
  /** How often the exchange log's chain heads are checkpointed, signed and archived. */
  readonly checkpointInterval: Duration;
  /**
   * How long the authoriser's execution environments trust what they read of a system and its
   * keys: a revoked key or a suspended system is refused everywhere at most this long after the
   * registry records it. Locally 0 (read on every request), so tests see a revocation at once.
   */
  readonly registryCache: Duration;
  /**
   * How long the exchange function's execution environments trust the permissions they read for
   * a consumer system and a dataset: a revoked or expired permission is refused everywhere at
   * most this long after the permission store records it. Locally 0 (read on every exchange), so
   * tests see a revocation at once; a permission's own expiry is checked on every exchange.
   */
  readonly permissionCache: Duration;
  /**
   * What API Gateway writes to its execution logs: every request in dev and locally, where they
   * are read to debug; errors only in prod, where the access log already has a line per request.
   * Data trace (bodies and headers) is off on every stage.
   */
  readonly executionLogLevel: "INFO" | "ERROR";
  /**
   * Lambda's own (platform) log records: INFO writes START, END and REPORT lines for every
   * invocation, about 700 bytes each, read when debugging in dev and locally; prod keeps WARN and
   * above, and durations, errors and throttles stay in Lambda's CloudWatch metrics.
   */
  readonly systemLogLevel: "INFO" | "WARN";
  /**
   * Share of the API's requests traced by X-Ray (the functions follow the gateway's decision),
   * after the first each second; undefined leaves X-Ray's default (1 a second and 5 %).
   */
  readonly traceSampleRate?: number;
  /**
   * Concurrent executions the exchange function may use (reserved: also guaranteed), and the
   * deliverer's queue may drive: a provider or consumer that answers slowly holds at most these,
   * never every Lambda of the account. Undefined: unbounded (locally, where the runtime bounds it).
   */
  readonly concurrency: { readonly exchange?: number; readonly deliveries?: number };
  /**
   * Independent hash chains (shards) of the exchange log, 1-99: appends to different shards never
   * wait for each other, and each is one message group of the log's FIFO queue. May be raised on
   * a deployed stage (an entry's shard follows from its transaction id; old chains stay verified
   * up to their end), never lowered: the chains above the new count would no longer be verified.
   */
  readonly logShards: number;
}

export function isStageName(value: unknown): value is StageName {
  return typeof value === "string" && (STAGES as readonly string[]).includes(value);
}

export function stageConfig(name: StageName): StageConfig {
  const production = name === "prod";
  return {
    name,
    removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    logRetention: production ? RetentionDays.ONE_YEAR : RetentionDays.ONE_WEEK,
    throttle: production ? { rateLimit: 500, burstLimit: 1000 } : { rateLimit: 100, burstLimit: 200 },
    deletionProtection: production,
    keyPendingWindow: production ? Duration.days(30) : Duration.days(7),
    // prod: 30 s, 1, 2, 4, 8, 15, 15, 15, 15 min: about 1 h 20 min of outage before a dead letter.
    delivery:
      name === "local"
        ? { maxAttempts: 4, baseDelay: Duration.seconds(1) }
        : production
          ? { maxAttempts: 10, baseDelay: Duration.seconds(30) }
          : { maxAttempts: 6, baseDelay: Duration.seconds(5) },
    logArchiveRetention: production ? Duration.days(10 * 365) : Duration.days(1),
    checkpointInterval: Duration.minutes(5),
    registryCache: name === "local" ? Duration.seconds(0) : Duration.seconds(30),
    permissionCache: name === "local" ? Duration.seconds(0) : Duration.seconds(10),
    executionLogLevel: production ? "ERROR" : "INFO",
    systemLogLevel: production ? "WARN" : "INFO",
    ...(production ? { traceSampleRate: 0.05 } : {}),
    concurrency:
      name === "local" ? {} : production ? { exchange: 400, deliveries: 50 } : { exchange: 20, deliveries: 5 },
    logShards: production ? 32 : 8,
  };
}
