import { describe, expect, it } from "vitest";
import { assignIdentities, physicalName } from "../../../runtime/identities.ts";
import { dependencyOrder } from "../../../runtime/local-runtime.ts";

const pseudo = { region: "eu-west-1", accountId: "000000000000", stackName: "Dscp-local" };

describe("assignIdentities", () => {
  it("names resources deterministically, so local state survives restarts", () => {
    const resources = { Table: { Type: "AWS::DynamoDB::Table" } };

    expect(assignIdentities(resources, pseudo).get("Table")?.ref).toBe(
      assignIdentities(resources, pseudo).get("Table")?.ref,
    );
  });

  it("gives buckets valid S3 names and keeps explicit names", () => {
    const identities = assignIdentities(
      {
        AVeryLongLogicalIdForABucketThatWouldOverflowTheSixtyThreeCharacterLimit: { Type: "AWS::S3::Bucket" },
        Named: { Type: "AWS::S3::Bucket", Properties: { BucketName: "my-bucket" } },
      },
      pseudo,
    );
    const generated =
      identities.get("AVeryLongLogicalIdForABucketThatWouldOverflowTheSixtyThreeCharacterLimit")?.ref ?? "";

    expect(generated).toMatch(/^[a-z0-9-]{3,63}$/);
    expect(identities.get("Named")?.ref).toBe("my-bucket");
  });

  it("builds ARNs in the stack's region and account, with .fifo kept on FIFO queues", () => {
    const identities = assignIdentities({ Jobs: { Type: "AWS::SQS::Queue", Properties: { FifoQueue: true } } }, pseudo);

    expect(identities.get("Jobs")?.attributes.Arn).toMatch(
      /^arn:aws:sqs:eu-west-1:000000000000:Dscp-local-Jobs-\w+\.fifo$/,
    );
  });

  it("answers Ref and any attribute for types it does not emulate", () => {
    const identity = assignIdentities({ Acl: { Type: "AWS::WAFv2::WebACL" } }, pseudo).get("Acl");

    expect(identity?.ref).toBeTruthy();
    expect(identity?.attributes.Arn).toMatch(/^arn:aws:wafv2:/);
    expect("Anything" in (identity?.attributes ?? {})).toBe(true);
  });

  it("trims generated names to the service's limit", () => {
    expect(physicalName("Stack", "X".repeat(100), 64)).toHaveLength(64);
  });
});

describe("dependencyOrder", () => {
  it("puts each resource after the resources it references", () => {
    const order = dependencyOrder({
      Queue: {
        Type: "AWS::SQS::Queue",
        Properties: { RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": ["Dlq", "Arn"] } } },
      },
      Fn: { Type: "AWS::Lambda::Function", Properties: { Role: { "Fn::Sub": "${Role.Arn}" } }, DependsOn: ["Queue"] },
      Role: { Type: "AWS::IAM::Role" },
      Dlq: { Type: "AWS::SQS::Queue" },
    }).map(([logicalId]) => logicalId);

    expect(order.indexOf("Dlq")).toBeLessThan(order.indexOf("Queue"));
    expect(order.indexOf("Queue")).toBeLessThan(order.indexOf("Fn"));
    expect(order.indexOf("Role")).toBeLessThan(order.indexOf("Fn"));
  });
});
