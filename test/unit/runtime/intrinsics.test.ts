import { describe, expect, it } from "vitest";
import type { Template } from "../../../runtime/assembly.ts";
import { IntrinsicError, IntrinsicResolver, type PhysicalResource } from "../../../runtime/intrinsics.ts";

const template: Template = {
  Parameters: { BootstrapVersion: { Type: "String", Default: "/cdk-bootstrap/version" } },
  Conditions: {
    IsUsEast: { "Fn::Equals": [{ Ref: "AWS::Region" }, "us-east-1"] },
    NotUsEast: { "Fn::Not": [{ Condition: "IsUsEast" }] },
  },
  Mappings: { Runtimes: { "us-east-1": { node: "nodejs22.x" } } },
  Resources: {},
};
const resources = new Map<string, PhysicalResource>([
  [
    "Table",
    {
      type: "AWS::DynamoDB::Table",
      ref: "stack-Table-ABC",
      attributes: { Arn: "arn:aws:dynamodb:us-east-1:000000000000:table/stack-Table-ABC" },
    },
  ],
]);
const resolver = new IntrinsicResolver(
  template,
  { region: "us-east-1", accountId: "000000000000", stackName: "stack" },
  resources,
  new Map([["shared-bucket", "bucket-1"]]),
);

describe("IntrinsicResolver", () => {
  it("resolves Ref to resources, parameters and pseudo parameters", () => {
    expect(resolver.resolve({ Ref: "Table" })).toBe("stack-Table-ABC");
    expect(resolver.resolve({ Ref: "BootstrapVersion" })).toBe("/cdk-bootstrap/version");
    expect(resolver.resolve({ Ref: "AWS::AccountId" })).toBe("000000000000");
  });

  it("resolves Fn::GetAtt in both its forms", () => {
    expect(resolver.resolve({ "Fn::GetAtt": ["Table", "Arn"] })).toMatch(/:table\/stack-Table-ABC$/);
    expect(resolver.resolve({ "Fn::GetAtt": "Table.Arn" })).toMatch(/:table\/stack-Table-ABC$/);
  });

  it("resolves Fn::Join, Fn::Select and Fn::Split over nested intrinsics", () => {
    const joined = { "Fn::Join": [":", ["a", { Ref: "AWS::Region" }, { Ref: "Table" }]] };

    expect(resolver.resolve(joined)).toBe("a:us-east-1:stack-Table-ABC");
    expect(resolver.resolve({ "Fn::Select": [1, { "Fn::Split": [":", joined] }] })).toBe("us-east-1");
  });

  it("resolves Fn::Sub with template references, attributes, variables and escapes", () => {
    const sub = { "Fn::Sub": ["${AWS::Region}/${Table}/${Table.Arn}/${Name}/${!Literal}", { Name: "x" }] };

    expect(resolver.resolve(sub)).toBe(
      "us-east-1/stack-Table-ABC/arn:aws:dynamodb:us-east-1:000000000000:table/stack-Table-ABC/x/${Literal}",
    );
  });

  it("evaluates conditions and Fn::If, dropping AWS::NoValue", () => {
    const value = {
      a: { "Fn::If": ["NotUsEast", "yes", { Ref: "AWS::NoValue" }] },
      b: { "Fn::If": ["IsUsEast", 1, 2] },
    };

    expect(resolver.resolve(value)).toEqual({ b: 1 });
    expect(resolver.condition("NotUsEast")).toBe(false);
  });

  it("resolves Fn::FindInMap and Fn::ImportValue", () => {
    expect(resolver.resolve({ "Fn::FindInMap": ["Runtimes", { Ref: "AWS::Region" }, "node"] })).toBe("nodejs22.x");
    expect(resolver.resolve({ "Fn::ImportValue": "shared-bucket" })).toBe("bucket-1");
  });

  it("names the path of a reference it cannot resolve", () => {
    expect(() => resolver.resolve({ Variables: { X: { Ref: "Missing" } } })).toThrow(IntrinsicError);
    expect(() => resolver.resolve({ Variables: { X: { Ref: "Missing" } } })).toThrow(/\$\.Variables\.X/);
  });

  it("refuses intrinsics it does not support instead of guessing", () => {
    expect(() => resolver.resolve({ "Fn::Cidr": ["10.0.0.0/16", 2, 8] })).toThrow(/not supported/);
  });
});
