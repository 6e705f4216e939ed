import { Duration, type RemovalPolicy, Validations } from "aws-cdk-lib";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface WorkQueueProps {
  /** Encrypts both queues. */
  readonly encryptionKey: IKey;
  /** Timeout of the function that consumes the queue; the visibility timeout is six times it. */
  readonly consumerTimeout: Duration;
  /** Receives before a message moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  readonly removalPolicy: RemovalPolicy;
  /** First-in first-out per message group, with deduplication. @default false */
  readonly fifo?: boolean;
  /**
   * FIFO high-throughput mode: throughput limited per message group, not per queue, and
   * deduplication per message group (a message's deduplication id need only be unique in its
   * group). Only with `fifo`. @default false
   */
  readonly highThroughput?: boolean;
}

/** Where a capability's queue is kept: the stateful stack's key and its stage's removal policy. */
export interface WorkQueuePlacement {
  readonly encryptionKey: IKey;
  readonly removalPolicy: RemovalPolicy;
}

/** What makes a capability's queue in the stateful stack, before the capability that consumes it exists. */
export type WorkQueueFactory = (scope: Construct, id: string, placement: WorkQueuePlacement) => WorkQueue;

/** The factory of a capability's queue: its consumer's own settings, placed where the stack keeps it. */
export function workQueueFactory(settings: Omit<WorkQueueProps, keyof WorkQueuePlacement>): WorkQueueFactory {
  return (scope, id, placement) => new WorkQueue(scope, id, { ...settings, ...placement });
}

/**
 * A queue of work for one consumer function, with the defaults AWS recommends: KMS
 * encryption, TLS-only access, a dead-letter queue kept for 14 days, and a visibility timeout
 * of six times the consumer's timeout so a retried batch never overlaps one still running.
 */
export class WorkQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    const common = {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
      ...(props.fifo ? { fifo: true } : {}),
      ...(props.fifo && props.highThroughput
        ? {
            fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
            deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
          }
        : {}),
    };
    this.deadLetterQueue = new Queue(this, "DeadLetters", { ...common, retentionPeriod: Duration.days(14) });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: "Serverless-SQSRedrivePolicy",
      reason: "This is the dead-letter queue itself: its messages wait for inspection and an operator's redrive.",
    });
    this.queue = new Queue(this, "Queue", {
      ...common,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
  }

  /**
   * Makes `consumer` process the queue in batches, reporting failed records individually.
   * `maxConcurrency` bounds the consumer's concurrent executions this queue drives (2-1000).
   */
  connect(
    consumer: IFunction,
    options: { batchSize?: number; maxBatchingWindow?: Duration; maxConcurrency?: number } = {},
  ): void {
    const source = new SqsEventSource(this.queue, {
      batchSize: options.batchSize ?? 10,
      maxBatchingWindow: options.maxBatchingWindow,
      ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
      reportBatchItemFailures: true,
    });
    consumer.addEventSource(source);
    Validations.of(consumer).acknowledge({
      id: "Serverless-LambdaEventSourceMappingDestination",
      reason:
        "SQS event sources take no on-failure destination: failed messages go to the queue's own dead-letter queue by its redrive policy.",
    });
  }
}
