import { Stack, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IBucket } from "aws-cdk-lib/aws-s3";

/** KMS actions DynamoDB needs from a caller when the table uses a customer-managed key. */
const KMS_FOR = {
  read: ["kms:Decrypt", "kms:DescribeKey"],
  // Spelled out instead of CDK's GenerateDataKey* / ReEncrypt* wildcards.
  write: [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
  ],
};

/**
 * Grants exactly `actions` on a table and on the named indexes only (no `index/*`), plus what
 * its encryption key needs for reading or writing.
 */
export function grantTable(
  fn: IFunction,
  table: ITable,
  actions: readonly string[],
  options: { indexes?: readonly string[]; writes?: boolean } = {},
): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: [...actions],
      resources: [table.tableArn, ...(options.indexes ?? []).map((index) => `${table.tableArn}/index/${index}`)],
    }),
  );
  table.encryptionKey?.grant(fn, ...(options.writes ? KMS_FOR.write : KMS_FOR.read));
}

/**
 * Grants writing `actions` on a table's items whose partition key starts with one of
 * `keyPrefixes`, and no other items (IAM condition `dynamodb:LeadingKeys`), plus what its
 * encryption key needs. A function that shares a table with items it has no business changing
 * (the registry table holds agencies, systems and their keys beside the catalog and the
 * dictionary) cannot write them even if its code is turned against it.
 */
export function grantItemWrites(
  fn: IFunction,
  table: ITable,
  actions: readonly string[],
  keyPrefixes: readonly string[],
): void {
  if (keyPrefixes.length === 0 || keyPrefixes.some((prefix) => !/^[A-Z]+#$/.test(prefix))) {
    throw new Error(`key prefixes must be upper-case words ending in '#': ${keyPrefixes.join(", ")}`);
  }
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: [...actions],
      resources: [table.tableArn],
      conditions: {
        "ForAllValues:StringLike": { "dynamodb:LeadingKeys": keyPrefixes.map((prefix) => `${prefix}*`) },
      },
    }),
  );
  table.encryptionKey?.grant(fn, ...KMS_FOR.write);
}

/**
 * Grants reading objects under `read` prefixes and writing them under `write` prefixes of a
 * KMS-encrypted bucket, nothing else (no listing, deleting or bucket-level actions). Object keys
 * are chosen per batch at run time, so each prefix is a wildcard, acknowledged as such.
 */
export function grantObjects(
  fn: IFunction,
  bucket: IBucket,
  prefixes: { read?: readonly string[]; write?: readonly string[] },
): void {
  const objects = (list: readonly string[] | undefined) =>
    (list ?? []).map((prefix) => bucket.arnForObjects(`${prefix}*`));
  if (prefixes.read?.length) {
    fn.addToRolePolicy(new PolicyStatement({ actions: ["s3:GetObject"], resources: objects(prefixes.read) }));
  }
  if (prefixes.write?.length) {
    fn.addToRolePolicy(new PolicyStatement({ actions: ["s3:PutObject"], resources: objects(prefixes.write) }));
  }
  bucket.encryptionKey?.grant(
    fn,
    ...(prefixes.write?.length ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"]),
  );
  // cdk-nag names the bucket as the role's template does: `<BucketId.Arn>` in the bucket's own
  // stack, the export's name in another. That is known once references are resolved, so the
  // acknowledgement is made then (validation runs after them, before cdk-nag's plugins).
  const role = fn.role ?? fn;
  role.node.addValidation({
    validate: () => {
      const arn = nagResourceName(Stack.of(role).resolve(bucket.bucketArn));
      for (const prefix of new Set([...(prefixes.read ?? []), ...(prefixes.write ?? [])])) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${arn}/${prefix}*]`,
          reason: `Objects under ${prefix} are named per batch at run time; the grant is limited to that prefix and to the object actions the function uses.`,
        });
      }
      return [];
    },
  });
}

/** How cdk-nag writes a resolved ARN in a finding's id: `<Id.Arn>` for GetAtt, the name of an import. */
function nagResourceName(resolved: unknown): string {
  const value = resolved as { "Fn::GetAtt"?: [string, string]; "Fn::ImportValue"?: string };
  if (value["Fn::GetAtt"]) return `<${value["Fn::GetAtt"].join(".")}>`;
  if (typeof value["Fn::ImportValue"] === "string") return value["Fn::ImportValue"];
  throw new Error(`cannot name ${JSON.stringify(resolved)} as cdk-nag does`);
}
