import type { Template } from "./assembly.ts";

/** What a resource answers to `Ref` and `Fn::GetAtt`. */
export interface PhysicalResource {
  readonly type: string;
  ref: string;
  readonly attributes: Record<string, unknown>;
}

/** Values of the pseudo parameters (`AWS::Region` and friends). */
export interface PseudoParameters {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  readonly partition?: string;
  readonly urlSuffix?: string;
}

/** Marker that `Ref: AWS::NoValue` leaves behind; removed from objects and arrays. */
const NO_VALUE = Symbol("AWS::NoValue");

/** Thrown for intrinsic functions the runtime cannot evaluate, naming the path. */
export class IntrinsicError extends Error {
  override readonly name = "IntrinsicError";
}

/**
 * Evaluates CloudFormation intrinsic functions against the local identities of a stack's
 * resources: Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If and the
 * condition functions, Fn::FindInMap, Fn::ImportValue, Fn::Base64, Fn::GetAZs.
 */
export class IntrinsicResolver {
  private readonly conditionCache = new Map<string, boolean>();

  constructor(
    private readonly template: Template,
    private readonly pseudo: PseudoParameters,
    private readonly resources: ReadonlyMap<string, PhysicalResource>,
    private readonly exports: ReadonlyMap<string, unknown>,
  ) {}

  /** Resolves every intrinsic in `value`, deeply. */
  resolve(value: unknown): unknown {
    const resolved = this.walk(value, "$");
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** Resolves `value` and insists on a string. */
  resolveString(value: unknown): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== "string") {
      throw new IntrinsicError(`expected a string, got ${JSON.stringify(resolved)}`);
    }
    return resolved;
  }

  /** Whether a named condition of the template holds. */
  condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new IntrinsicError(`unknown condition ${name}`);
    const value = this.truth(definition, `Conditions.${name}`);
    this.conditionCache.set(name, value);
    return value;
  }

  private truth(value: unknown, path: string): boolean {
    const resolved = this.walk(value, path);
    if (typeof resolved === "boolean") return resolved;
    if (resolved === "true" || resolved === "false") return resolved === "true";
    throw new IntrinsicError(`${path}: condition did not evaluate to a boolean`);
  }

  private walk(value: unknown, path: string): unknown {
    if (Array.isArray(value)) {
      return value.map((item, index) => this.walk(item, `${path}[${index}]`)).filter((item) => item !== NO_VALUE);
    }
    if (value === null || typeof value !== "object") return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (
      entries.length === 1 &&
      first &&
      (first[0] === "Ref" || first[0].startsWith("Fn::") || first[0] === "Condition")
    ) {
      return this.intrinsic(first[0], first[1], path);
    }
    const result: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const resolved = this.walk(item, `${path}.${key}`);
      if (resolved !== NO_VALUE) result[key] = resolved;
    }
    return result;
  }

  private intrinsic(name: string, argument: unknown, path: string): unknown {
    switch (name) {
      case "Ref":
        return this.ref(String(argument), path);
      case "Fn::GetAtt": {
        const [logicalId, attribute] = Array.isArray(argument)
          ? [String(argument[0]), String(this.walk(argument[1], path))]
          : splitOnce(String(argument), ".");
        return this.getAtt(logicalId, attribute, path);
      }
      case "Fn::Join": {
        const [separator, items] = argument as [string, unknown];
        const list = this.walk(items, path);
        if (!Array.isArray(list)) throw new IntrinsicError(`${path}: Fn::Join needs a list`);
        return list.map((item) => stringify(item, path)).join(separator);
      }
      case "Fn::Sub":
        return this.sub(argument, path);
      case "Fn::Select": {
        const [index, items] = argument as [unknown, unknown];
        const list = this.walk(items, path);
        const position = Number(this.walk(index, path));
        if (!Array.isArray(list) || !(position in list)) throw new IntrinsicError(`${path}: Fn::Select out of range`);
        return list[position];
      }
      case "Fn::Split": {
        const [separator, source] = argument as [string, unknown];
        return stringify(this.walk(source, path), path).split(separator);
      }
      case "Fn::If": {
        const [condition, whenTrue, whenFalse] = argument as [string, unknown, unknown];
        return this.walk(this.condition(condition) ? whenTrue : whenFalse, path);
      }
      case "Fn::Equals": {
        const [left, right] = argument as [unknown, unknown];
        return JSON.stringify(this.walk(left, path)) === JSON.stringify(this.walk(right, path));
      }
      case "Fn::Not":
        return !this.truth((argument as unknown[])[0], path);
      case "Fn::And":
        return (argument as unknown[]).every((item) => this.truth(item, path));
      case "Fn::Or":
        return (argument as unknown[]).some((item) => this.truth(item, path));
      case "Condition":
        return this.condition(String(argument));
      case "Fn::FindInMap": {
        const [map, top, second] = (argument as unknown[]).map((item) => stringify(this.walk(item, path), path));
        const found = this.template.Mappings?.[String(map)]?.[String(top)]?.[String(second)];
        if (found === undefined) throw new IntrinsicError(`${path}: no mapping ${map}.${top}.${second}`);
        return found;
      }
      case "Fn::ImportValue": {
        const exportName = stringify(this.walk(argument, path), path);
        if (!this.exports.has(exportName)) throw new IntrinsicError(`${path}: no stack exports ${exportName}`);
        return this.exports.get(exportName);
      }
      case "Fn::Base64":
        return Buffer.from(stringify(this.walk(argument, path), path)).toString("base64");
      case "Fn::GetAZs":
        return ["a", "b", "c"].map((zone) => `${this.pseudo.region}${zone}`);
      default:
        throw new IntrinsicError(`${path}: ${name} is not supported by the local runtime`);
    }
  }

  private ref(name: string, path: string): unknown {
    switch (name) {
      case "AWS::Region":
        return this.pseudo.region;
      case "AWS::AccountId":
        return this.pseudo.accountId;
      case "AWS::Partition":
        return this.pseudo.partition ?? "aws";
      case "AWS::URLSuffix":
        return this.pseudo.urlSuffix ?? "amazonaws.com";
      case "AWS::StackName":
        return this.pseudo.stackName;
      case "AWS::StackId":
        return `arn:aws:cloudformation:${this.pseudo.region}:${this.pseudo.accountId}:stack/${this.pseudo.stackName}/local`;
      case "AWS::NotificationARNs":
        return [];
      case "AWS::NoValue":
        return NO_VALUE;
    }
    const parameter = this.template.Parameters?.[name];
    if (parameter) return parameter.Default ?? "";
    const resource = this.resources.get(name);
    if (!resource) throw new IntrinsicError(`${path}: Ref to unknown resource ${name}`);
    return resource.ref;
  }

  private getAtt(logicalId: string, attribute: string, path: string): unknown {
    const resource = this.resources.get(logicalId);
    if (!resource) throw new IntrinsicError(`${path}: Fn::GetAtt of unknown resource ${logicalId}`);
    if (!(attribute in resource.attributes)) {
      throw new IntrinsicError(`${path}: ${resource.type} ${logicalId} has no attribute ${attribute} locally`);
    }
    return resource.attributes[attribute];
  }

  private sub(argument: unknown, path: string): string {
    const [text, variables] =
      typeof argument === "string" ? [argument, {}] : (argument as [string, Record<string, unknown>]);
    const bound = this.walk(variables, path) as Record<string, unknown>;
    return text.replace(/\$\{([^}]+)\}/g, (_match, expression: string) => {
      if (expression.startsWith("!")) return `\${${expression.slice(1)}}`;
      if (expression in bound) return stringify(bound[expression], path);
      if (expression.includes(".") && !expression.startsWith("AWS::")) {
        const [logicalId, attribute] = splitOnce(expression, ".");
        return stringify(this.getAtt(logicalId, attribute, path), path);
      }
      return stringify(this.ref(expression, path), path);
    });
  }
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
}

function stringify(value: unknown, path: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new IntrinsicError(`${path}: expected a string, got ${JSON.stringify(value)}`);
}
