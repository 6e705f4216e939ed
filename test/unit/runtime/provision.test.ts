import { describe, expect, it } from "vitest";
import type { TemplateResource } from "../../../runtime/assembly.ts";
import { assignIdentities } from "../../../runtime/identities.ts";
import { IntrinsicResolver } from "../../../runtime/intrinsics.ts";
import { type AwsClients, provision } from "../../../runtime/provision.ts";

const pseudo = { region: "us-east-1", accountId: "000000000000", stackName: "Dscp-local" };

describe("provisioning a bucket", () => {
  it("names Object Lock as a gap of the local S3 emulator, which cannot enforce it", async () => {
    const resources: Record<string, TemplateResource> = {
      Archive: {
        Type: "AWS::S3::Bucket",
        Properties: {
          ObjectLockEnabled: true,
          ObjectLockConfiguration: {
            ObjectLockEnabled: "Enabled",
            Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: 1 } },
          },
        },
      },
      Plain: { Type: "AWS::S3::Bucket" },
    };
    const identities = assignIdentities(resources, pseudo);
    const resolver = new IntrinsicResolver({ Resources: resources } as never, pseudo, identities, new Map());
    // Only CreateBucket is called: an SDK stand-in that accepts it is enough for this edge.
    const clients = { s3: { send: async () => ({}) } } as unknown as AwsClients;

    const report = await provision(Object.entries(resources), identities, resolver, clients, () => {});

    expect(report.buckets).toHaveLength(2);
    expect(report.gaps).toEqual([expect.stringMatching(/^bucket Archive: Object Lock declared but not enforced/)]);
  });
});
