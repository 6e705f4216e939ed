import { createHash } from "node:crypto";
import type { TemplateResource } from "./assembly.ts";
import type { PhysicalResource, PseudoParameters } from "./intrinsics.ts";

/**
 * Gives every resource of a stack the names, ids and ARNs CloudFormation would, but
 * deterministically (stack name + logical id), so local state survives restarts.
 */
export function assignIdentities(
  resources: Readonly<Record<string, TemplateResource>>,
  pseudo: PseudoParameters,
): Map<string, PhysicalResource> {
  const identities = new Map<string, PhysicalResource>();
  const { region, accountId: account } = pseudo;
  for (const [logicalId, resource] of Object.entries(resources)) {
    const props = resource.Properties ?? {};
    const explicit = (key: string) => (typeof props[key] === "string" ? (props[key] as string) : undefined);
    const generated = (limit: number) => physicalName(pseudo.stackName, logicalId, limit);
    const id = shortId(`${pseudo.stackName}/${logicalId}`);
    let identity: PhysicalResource;
    switch (resource.Type) {
      case "AWS::DynamoDB::Table":
      case "AWS::DynamoDB::GlobalTable": {
        const name = explicit("TableName") ?? generated(255);
        const arn = `arn:aws:dynamodb:${region}:${account}:table/${name}`;
        identity = { type: resource.Type, ref: name, attributes: { Arn: arn, StreamArn: `${arn}/stream/local` } };
        break;
      }
      case "AWS::S3::Bucket": {
        const name = explicit("BucketName") ?? generated(63).toLowerCase();
        identity = {
          type: resource.Type,
          ref: name,
          attributes: {
            Arn: `arn:aws:s3:::${name}`,
            DomainName: `${name}.s3.amazonaws.com`,
            RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
            DualStackDomainName: `${name}.s3.dualstack.${region}.amazonaws.com`,
            WebsiteURL: `http://${name}.s3-website-${region}.amazonaws.com`,
          },
        };
        break;
      }
      case "AWS::SQS::Queue": {
        const fifo = props.FifoQueue === true || props.FifoQueue === "true";
        const name = explicit("QueueName") ?? `${generated(fifo ? 75 : 80)}${fifo ? ".fifo" : ""}`;
        // The URL is the emulator's; it is filled in when the queue is created.
        identity = {
          type: resource.Type,
          ref: "",
          attributes: { Arn: `arn:aws:sqs:${region}:${account}:${name}`, QueueName: name, QueueUrl: "" },
        };
        break;
      }
      case "AWS::Lambda::Function": {
        const name = explicit("FunctionName") ?? generated(64);
        identity = {
          type: resource.Type,
          ref: name,
          attributes: { Arn: `arn:aws:lambda:${region}:${account}:function:${name}` },
        };
        break;
      }
      case "AWS::StepFunctions::StateMachine": {
        const name = explicit("StateMachineName") ?? generated(80);
        const arn = `arn:aws:states:${region}:${account}:stateMachine:${name}`;
        identity = { type: resource.Type, ref: arn, attributes: { Arn: arn, Name: name } };
        break;
      }
      case "AWS::ApiGateway::RestApi":
        identity = { type: resource.Type, ref: id, attributes: { RootResourceId: shortId(`${id}/`), RestApiId: id } };
        break;
      case "AWS::ApiGateway::Resource":
        identity = { type: resource.Type, ref: id, attributes: { ResourceId: id } };
        break;
      case "AWS::ApiGateway::Stage":
        identity = { type: resource.Type, ref: explicit("StageName") ?? id, attributes: {} };
        break;
      case "AWS::ApiGateway::Authorizer":
        identity = { type: resource.Type, ref: id, attributes: { AuthorizerId: id } };
        break;
      case "AWS::IAM::Role": {
        const name = explicit("RoleName") ?? generated(64);
        identity = {
          type: resource.Type,
          ref: name,
          attributes: { Arn: `arn:aws:iam::${account}:role/${name}`, RoleId: `AROA${id.toUpperCase()}` },
        };
        break;
      }
      case "AWS::KMS::Key": {
        const keyId = uuidFrom(`${pseudo.stackName}/${logicalId}`);
        identity = {
          type: resource.Type,
          ref: keyId,
          attributes: { Arn: `arn:aws:kms:${region}:${account}:key/${keyId}`, KeyId: keyId },
        };
        break;
      }
      case "AWS::Logs::LogGroup": {
        const name = explicit("LogGroupName") ?? generated(512);
        identity = {
          type: resource.Type,
          ref: name,
          attributes: { Arn: `arn:aws:logs:${region}:${account}:log-group:${name}:*` },
        };
        break;
      }
      case "AWS::Events::Rule": {
        const name = explicit("Name") ?? generated(64);
        identity = {
          type: resource.Type,
          ref: name,
          attributes: { Arn: `arn:aws:events:${region}:${account}:rule/${name}` },
        };
        break;
      }
      default: {
        // Resources the runtime does not emulate still answer Ref and the usual attributes,
        // so templates that mention them resolve.
        const service = resource.Type.split("::")[1]?.toLowerCase() ?? "unknown";
        const arn = `arn:aws:${service}:${region}:${account}:${logicalId.toLowerCase()}/${id}`;
        identity = {
          type: resource.Type,
          ref: id,
          attributes: new Proxy<Record<string, unknown>>(
            { Arn: arn, Id: id, Name: generated(64) },
            {
              has: () => true,
              get: (target, key) => (typeof key === "string" && key in target ? target[key] : `${id}.${String(key)}`),
            },
          ),
        };
      }
    }
    identities.set(logicalId, identity);
  }
  return identities;
}

/** `<stack>-<logicalId>-<hash>` trimmed to `limit`, as CloudFormation names resources. */
export function physicalName(stackName: string, logicalId: string, limit: number): string {
  const suffix = shortId(`${stackName}/${logicalId}`).toUpperCase();
  const stem = `${stackName}-${logicalId}`.replace(/[^A-Za-z0-9-]/g, "");
  return `${stem.slice(0, limit - suffix.length - 1)}-${suffix}`;
}

/** Ten lower-case alphanumerics derived from `seed`, like API Gateway's ids. */
export function shortId(seed: string): string {
  const digest = createHash("sha256").update(seed).digest();
  let id = "";
  for (const byte of digest.subarray(0, 10)) id += "abcdefghijklmnopqrstuvwxyz0123456789"[byte % 36];
  return id;
}

function uuidFrom(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
