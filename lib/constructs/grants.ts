import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";

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
