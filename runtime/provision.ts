import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { TemplateResource } from "./assembly.ts";
import type { IntrinsicResolver, PhysicalResource } from "./intrinsics.ts";

/** What provisioning did, for the start-up summary. */
export interface ProvisionReport {
  readonly tables: string[];
  readonly buckets: string[];
  readonly queues: string[];
  /** Template settings the emulators do not honour (TTL, streams...), one line each. */
  readonly gaps: string[];
}

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
}

/**
 * SDK clients aimed at the emulators, with dummy credentials and one region; `appId` names
 * their caller in the runtime's call counts.
 */
export function emulatorClients(
  endpoints: { dynamodb: string; s3: string; sqs: string },
  region: string,
  appId?: string,
): AwsClients {
  const credentials = { accessKeyId: "local", secretAccessKey: "local" };
  const common = { region, credentials, ...(appId ? { userAgentAppId: appId } : {}) };
  return {
    dynamodb: new DynamoDBClient({ endpoint: endpoints.dynamodb, ...common }),
    s3: new S3Client({ endpoint: endpoints.s3, ...common, forcePathStyle: true }),
    sqs: new SQSClient({ endpoint: endpoints.sqs, ...common }),
  };
}

/**
 * Creates, in the emulators, every table, bucket and queue a stack declares. Existing tables are
 * kept when their keys and indexes match the template, and recreated (their data dropped,
 * with a warning) when they do not.
 */
export async function provision(
  resources: ReadonlyArray<[string, TemplateResource]>,
  identities: ReadonlyMap<string, PhysicalResource>,
  resolver: IntrinsicResolver,
  clients: AwsClients,
  warn: (message: string) => void,
): Promise<ProvisionReport> {
  const report: ProvisionReport = { tables: [], buckets: [], queues: [], gaps: [] };
  for (const [logicalId, resource] of resources) {
    const identity = identities.get(logicalId);
    if (!identity) continue;
    const props = (resolver.resolve(resource.Properties ?? {}) ?? {}) as Record<string, unknown>;
    switch (resource.Type) {
      case "AWS::DynamoDB::Table":
      case "AWS::DynamoDB::GlobalTable":
        await ensureTable(clients.dynamodb, tableInput(identity.ref, props), warn);
        report.tables.push(identity.ref);
        if (props.TimeToLiveSpecification) {
          report.gaps.push(`table ${logicalId}: TTL declared but items never expire locally (dynalite has no TTL)`);
        }
        if (props.StreamSpecification || (props.StreamViewType ?? undefined)) {
          report.gaps.push(`table ${logicalId}: streams declared but not emulated`);
        }
        break;
      case "AWS::S3::Bucket":
        await clients.s3.send(new CreateBucketCommand({ Bucket: identity.ref })).catch((error: Error) => {
          if (!/BucketAlready(OwnedByYou|Exists)/.test(error.name)) throw error;
        });
        report.buckets.push(identity.ref);
        if (props.ObjectLockEnabled || props.ObjectLockConfiguration) {
          report.gaps.push(
            `bucket ${logicalId}: Object Lock declared but not enforced (fauxqs 1.9.2 has no Object Lock, versioning or conditional writes): its objects can be overwritten or deleted locally`,
          );
        }
        break;
      case "AWS::SQS::Queue": {
        const created = await clients.sqs.send(
          new CreateQueueCommand({
            QueueName: String(identity.attributes.QueueName),
            Attributes: queueAttributes(props),
          }),
        );
        identity.ref = created.QueueUrl ?? "";
        identity.attributes.QueueUrl = identity.ref;
        report.queues.push(String(identity.attributes.QueueName));
        break;
      }
    }
  }
  return report;
}

function tableInput(name: string, props: Record<string, unknown>): CreateTableCommandInput {
  type Index = { IndexName: string; KeySchema: never; Projection?: never };
  const index = (item: Index) => ({
    IndexName: item.IndexName,
    KeySchema: item.KeySchema,
    Projection: item.Projection ?? { ProjectionType: "ALL" as const },
  });
  const gsis = (props.GlobalSecondaryIndexes as Index[] | undefined)?.map(index);
  const lsis = (props.LocalSecondaryIndexes as Index[] | undefined)?.map(index);
  return {
    TableName: name,
    AttributeDefinitions: props.AttributeDefinitions as AttributeDefinition[],
    KeySchema: props.KeySchema as CreateTableCommandInput["KeySchema"],
    BillingMode: "PAY_PER_REQUEST",
    ...(gsis?.length ? { GlobalSecondaryIndexes: gsis } : {}),
    ...(lsis?.length ? { LocalSecondaryIndexes: lsis } : {}),
  };
}

async function ensureTable(client: DynamoDBClient, input: CreateTableCommandInput, warn: (message: string) => void) {
  try {
    const { Table: existing } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    if (sameShape(existing, input)) return;
    warn(`table ${input.TableName} changed in the template: recreated, its local data dropped`);
    await client.send(new DeleteTableCommand({ TableName: input.TableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand(input));
}

function sameShape(
  existing: { KeySchema?: unknown; GlobalSecondaryIndexes?: { IndexName?: string; KeySchema?: unknown }[] } | undefined,
  wanted: CreateTableCommandInput,
): boolean {
  const indexes = (list: { IndexName?: string; KeySchema?: unknown }[] | undefined) =>
    JSON.stringify((list ?? []).map((item) => [item.IndexName, item.KeySchema]).sort());
  return (
    JSON.stringify(existing?.KeySchema) === JSON.stringify(wanted.KeySchema) &&
    indexes(existing?.GlobalSecondaryIndexes) === indexes(wanted.GlobalSecondaryIndexes)
  );
}

const QUEUE_ATTRIBUTES = [
  "DelaySeconds",
  "MaximumMessageSize",
  "MessageRetentionPeriod",
  "ReceiveMessageWaitTimeSeconds",
  "VisibilityTimeout",
  "FifoQueue",
  "ContentBasedDeduplication",
  "DeduplicationScope",
  "FifoThroughputLimit",
] as const;

function queueAttributes(props: Record<string, unknown>): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const name of QUEUE_ATTRIBUTES) {
    if (props[name] !== undefined) attributes[name] = String(props[name]);
  }
  if (props.RedrivePolicy) attributes.RedrivePolicy = JSON.stringify(props.RedrivePolicy);
  return attributes;
}
