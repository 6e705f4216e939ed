import type { ResponseMetadata } from "./service-error.ts";

/** An SDK command class the lean path sends, with its operation's name and the SDK's schema of it. */
export interface HandledOperation {
  // biome-ignore lint/complexity/noBannedTypes: any command class; only `instanceof` is used.
  readonly command: Function;
  readonly name: string;
  /** The SDK's static operation schema (`PutItem$`): its output structure names the output's members. */
  readonly schema: unknown;
}

/** The operation `command` is an instance of, among those the lean path sends. */
export function operationFor(operations: readonly HandledOperation[], command: unknown): HandledOperation | undefined {
  for (const operation of operations) if (command instanceof operation.command) return operation;
  return undefined;
}

/** The arguments a call was made with, for sending it through the SDK unchanged. */
export function sdkArguments(command: unknown, options: unknown, cb: unknown): unknown[] {
  if (cb !== undefined) return [command, options, cb];
  return options === undefined ? [command] : [command, options];
}

/**
 * An input as the JSON protocol's body: blobs (DynamoDB `B`/`BS`, SQS `BinaryValue`, any
 * Uint8Array or Buffer) in base64, as the SDK serialises them.
 */
export function jsonBody(input: unknown): string {
  return JSON.stringify(input ?? {}, function (this: Record<string, unknown>, key, value: unknown) {
    const original = this[key];
    return original instanceof Uint8Array
      ? Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString("base64")
      : value;
  });
}

const outputMembers = new WeakMap<HandledOperation, ReadonlySet<string>>();

function membersOf(operation: HandledOperation): ReadonlySet<string> {
  let members = outputMembers.get(operation);
  if (!members) {
    const schema = operation.schema as readonly unknown[];
    const output: unknown = typeof schema[5] === "function" ? schema[5]() : schema[5];
    const names = Array.isArray(output) && Array.isArray(output[4]) ? (output[4] as string[]) : [];
    members = new Set(names);
    outputMembers.set(operation, members);
  }
  return members;
}

/** A parsed response body as the SDK returns it: the output's modelled members and `$metadata`. */
export function outputOf(operation: HandledOperation, parsed: unknown, $metadata: ResponseMetadata): unknown {
  const output: Record<string, unknown> = { $metadata };
  if (parsed && typeof parsed === "object") {
    const members = membersOf(operation);
    for (const [key, value] of Object.entries(parsed)) if (value != null && members.has(key)) output[key] = value;
  }
  return output;
}
