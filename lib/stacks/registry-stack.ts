import { Stack } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { ApiDocs } from "../constructs/api-docs.ts";
import { Catalog } from "../constructs/catalog.ts";
import { Dictionary } from "../constructs/dictionary.ts";
import { HealthCheck } from "../constructs/health-check.ts";
import { Permissions } from "../constructs/permissions.ts";
import { Registry } from "../constructs/registry.ts";
import type { CapabilityStackProps } from "./capability-stack.ts";

export interface RegistryStackProps extends CapabilityStackProps {
  /** The platform's identity in what it signs (Agent Node configurations). */
  readonly issuer: string;
}

/**
 * What the operator registers and agencies look up: agencies, systems and keys, the catalog
 * (Art. 4.5), the dictionary and master data (Art. 5-6, 19), permissions, and the public health
 * and API description routes.
 */
export class RegistryStack extends Stack {
  constructor(scope: Construct, id: string, props: RegistryStackProps) {
    super(scope, id, props);
    const { stores } = props.data;
    const common = {
      api: props.api,
      authorizer: props.authorizer,
      registryTable: stores.registryTable,
      stage: props.stage,
      version: props.version,
    };
    new Registry(this, "Registry", { ...common, signingKey: stores.signingKey, issuer: props.issuer });
    new Catalog(this, "Catalog", common);
    new Dictionary(this, "Dictionary", common);
    new Permissions(this, "Permissions", { ...common, permissionsTable: stores.permissionsTable });
    new HealthCheck(this, "Health", common);
    new ApiDocs(this, "ApiDocs", common);
  }
}
