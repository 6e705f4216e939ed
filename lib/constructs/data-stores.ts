import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { AttributeType, BillingMode, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { AnyPrincipal, Effect, PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key, KeySpec, KeyUsage } from "aws-cdk-lib/aws-kms";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type BucketProps,
  ObjectLockRetention,
  ObjectOwnership,
} from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import type { StageConfig } from "../stage.ts";

export interface DataStoresProps {
  readonly stage: StageConfig;
}

/**
 * The platform's stateful resources, apart from compute: the customer-managed key that encrypts
 * them, the registry table and the buckets for uploads, export packages and the log archive.
 * Tables use neither transactions nor TTL for correctness, so the embedded runtime's DynamoDB
 * emulator behaves as AWS does for them.
 */
export class DataStores extends Construct {
  /** Encrypts every table, bucket and queue of the platform. */
  readonly key: Key;
  /** Signs the platform's calls to agencies (ES256); its public half is published. */
  readonly signingKey: Key;
  /** Registry: agencies, systems, keys, dictionary, catalog, master data (single-table design). */
  readonly registryTable: Table;
  /** Access requests and permissions (consumer × dataset × fields × purpose × methods × validity). */
  readonly permissionsTable: Table;
  /** The exchange log (Art. 13): sharded hash chains of every exchange attempt. */
  readonly exchangeLogTable: Table;
  /** Token ids already used, per issuer, until they expire (replay protection). */
  readonly replayTable: Table;
  /** Integrated records (current and history) and sync batches. */
  readonly integratedTable: Table;
  /** Receives server access logs of the other buckets. */
  readonly accessLogsBucket: Bucket;
  /** Large sync batches uploaded by providers through presigned URLs. */
  readonly uploadsBucket: Bucket;
  /** Export packages for storage media (Art. 7.2d). */
  readonly exportsBucket: Bucket;
  /**
   * Archive of the exchange log (Art. 13): signed checkpoints of the chains' heads and the
   * entries they cover, write-once under S3 Object Lock in compliance mode.
   */
  readonly logArchiveBucket: Bucket;

  constructor(scope: Construct, id: string, props: DataStoresProps) {
    super(scope, id);
    const { removalPolicy } = props.stage;

    this.key = new Key(this, "Key", {
      description: "DSCP platform data: tables, buckets and queues",
      enableKeyRotation: true,
      pendingWindow: props.stage.keyPendingWindow,
      removalPolicy,
    });
    // CloudWatch alarms publish to the operator's alarm topic, which this key encrypts: without
    // this statement, no alarm of this account would ever reach it.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: "AlarmsPublishToTheEncryptedTopic",
        principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        conditions: { StringEquals: { "aws:SourceAccount": Stack.of(this).account } },
      }),
    );

    this.signingKey = new Key(this, "SigningKey", {
      description: "DSCP platform signing key: signs the platform's calls to agencies' systems",
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      pendingWindow: props.stage.keyPendingWindow,
      removalPolicy,
    });
    Validations.of(this.signingKey).acknowledge({
      id: "AwsSolutions-KMS5",
      reason:
        "KMS cannot rotate asymmetric keys automatically; rotation is a new key published beside this one in GET /v1/platform/keys until providers have it.",
    });

    this.registryTable = this.table("RegistryTable", { sortKey: "sk" }, props.stage);
    this.registryTable.addGlobalSecondaryIndex({
      indexName: "gsi1",
      partitionKey: { name: "gsi1pk", type: AttributeType.STRING },
      sortKey: { name: "gsi1sk", type: AttributeType.STRING },
    });
    // Every system by its endpoint's status, then id: what awaits the operator's approval.
    this.registryTable.addGlobalSecondaryIndex({
      indexName: "gsi2",
      partitionKey: { name: "gsi2pk", type: AttributeType.STRING },
      sortKey: { name: "gsi2sk", type: AttributeType.STRING },
    });

    this.permissionsTable = this.table("PermissionsTable", {}, props.stage);
    for (const [indexName, number] of [
      ["byConsumer", 1],
      ["byConsumerAgency", 2],
      ["byProviderAgency", 3],
      ["all", 4],
    ] as const) {
      this.permissionsTable.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: `gsi${number}pk`, type: AttributeType.STRING },
        sortKey: { name: `gsi${number}sk`, type: AttributeType.STRING },
      });
    }

    this.exchangeLogTable = this.table("ExchangeLogTable", { sortKey: "sk" }, props.stage);
    for (const [indexName, number] of [
      ["byConsumer", 1],
      ["byProvider", 2],
      ["byTime", 3],
    ] as const) {
      this.exchangeLogTable.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: `gsi${number}pk`, type: AttributeType.STRING },
        sortKey: { name: `gsi${number}sk`, type: AttributeType.STRING },
      });
    }

    // The National Integrated Database (Art. 7.2c) and the sync batches that feed it.
    this.integratedTable = this.table("IntegratedTable", { sortKey: "sk" }, props.stage);
    this.integratedTable.addGlobalSecondaryIndex({
      indexName: "byDataset",
      partitionKey: { name: "gsi1pk", type: AttributeType.STRING },
      sortKey: { name: "gsi1sk", type: AttributeType.STRING },
    });

    // TTL only cleans up: the replay guard's condition ignores expired entries itself.
    this.replayTable = this.table("ReplayTable", { timeToLiveAttribute: "expiresAt" }, props.stage);

    this.accessLogsBucket = new Bucket(this, "AccessLogsBucket", {
      // Server access logging only delivers to buckets encrypted with S3-managed keys.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy,
    });

    const dataBucket = (bucketId: string, logPrefix: string, extra: Partial<BucketProps> = {}) =>
      new Bucket(this, bucketId, {
        encryption: BucketEncryption.KMS,
        encryptionKey: this.key,
        bucketKeyEnabled: true,
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        versioned: true,
        serverAccessLogsBucket: this.accessLogsBucket,
        serverAccessLogsPrefix: logPrefix,
        removalPolicy,
        ...extra,
      });

    this.uploadsBucket = dataBucket("UploadsBucket", "uploads/");
    // Batch files and their partitions are working copies: the integrated store and the batch
    // record keep what was applied. Abandoned multipart uploads are aborted after a day.
    this.uploadsBucket.addLifecycleRule({
      id: "abandoned-multipart",
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    });
    for (const prefix of ["uploads/", "batches/", "reports/"]) {
      this.uploadsBucket.addLifecycleRule({
        id: `expire-${prefix.replace("/", "")}`,
        prefix,
        expiration: Duration.days(30),
        noncurrentVersionExpiration: Duration.days(1),
      });
    }
    this.exportsBucket = dataBucket("ExportsBucket", "exports/");
    // Packages are for handing over on media: downloaded within days, then gone.
    this.exportsBucket.addLifecycleRule({
      id: "expire-exports",
      prefix: "exports/",
      expiration: Duration.days(30),
      noncurrentVersionExpiration: Duration.days(1),
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    });
    // Evidence (Art. 13): every object locked in compliance mode for the stage's retention, and
    // the bucket kept when the stack goes (locked objects could not be deleted with it anyway).
    this.logArchiveBucket = dataBucket("LogArchiveBucket", "log-archive/", {
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(props.stage.logArchiveRetention),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Write-once: an object is only ever created (If-None-Match: *), never replaced by a newer
    // version, and nobody hides one behind a delete marker.
    this.logArchiveBucket.addToResourcePolicy(
      new PolicyStatement({
        sid: "CreateOnly",
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ["s3:PutObject"],
        resources: [this.logArchiveBucket.arnForObjects("*")],
        conditions: { Null: { "s3:if-none-match": "true" } },
      }),
    );
    this.logArchiveBucket.addToResourcePolicy(
      new PolicyStatement({
        sid: "NoDeletes",
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
        resources: [this.logArchiveBucket.arnForObjects("*")],
      }),
    );
  }

  /**
   * A table with the platform's defaults: string key `pk` (and an optional sort key), on-demand,
   * encrypted with the platform key, point-in-time recovery, the stage's protection and removal.
   * Table (not TableV2): a customer-managed key on TableV2 cannot render in a region-agnostic
   * stack, and DSCP names no region.
   */
  private table(id: string, options: { sortKey?: string; timeToLiveAttribute?: string }, stage: StageConfig): Table {
    return new Table(this, id, {
      partitionKey: { name: "pk", type: AttributeType.STRING },
      ...(options.sortKey ? { sortKey: { name: options.sortKey, type: AttributeType.STRING } } : {}),
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: stage.deletionProtection,
      removalPolicy: stage.removalPolicy,
      ...(options.timeToLiveAttribute ? { timeToLiveAttribute: options.timeToLiveAttribute } : {}),
    });
  }
}
