import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { RetentionDays } from "aws-cdk-lib/aws-logs";

/** Deployment stages. `local` is the embedded runtime and LocalStack; `prod` keeps data on delete. */
export const STAGES = ["local", "dev", "prod"] as const;
export type StageName = (typeof STAGES)[number];

/** Everything that differs between stages, decided in one place. */
export interface StageConfig {
  readonly name: StageName;
  /** Tables, buckets and keys: destroyed with the stack outside prod, retained in prod. */
  readonly removalPolicy: RemovalPolicy;
  /** Retention of function, API access and execution logs. */
  readonly logRetention: RetentionDays;
  /** Steady-state request rate and burst allowed per API stage. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Deletion protection on tables. */
  readonly deletionProtection: boolean;
  /** How long the KMS key waits before deletion once scheduled. */
  readonly keyPendingWindow: Duration;
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
  };
}
