import type { ResponseMetadata } from "./service-error.ts";

/** An SDK command class the lean path sends, with its operation's name. */
export interface HandledOperation {
  readonly command: abstract new (...args: never[]) => unknown;
  readonly name: string;
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

const outputMembers = new WeakMap<HandledOperation, ReadonlySet<string> | null>();

/**
 * The members of an operation's output, from the SDK's schema of it (`PutItem$`) where the
 * client version has one; null (every member kept) where it has not.
 */
function membersOf(operation: HandledOperation, sdk: Readonly<Record<string, unknown>>): ReadonlySet<string> | null {
  let members = outputMembers.get(operation);
  if (members === undefined) {
    const schema = sdk[`${operation.name}$`];
    const reference: unknown = Array.isArray(schema) ? schema[5] : undefined;
    const output: unknown = typeof reference === "function" ? reference() : reference;
    members = Array.isArray(output) && Array.isArray(output[4]) ? new Set(output[4] as string[]) : null;
    outputMembers.set(operation, members);
  }
  return members;
}

/**
 * A parsed response body as the SDK returns it: the output's modelled members (those the SDK's
 * schema names, from the client package's exports `sdk`) and `$metadata`.
 */
export function outputOf(
  operation: HandledOperation,
  parsed: unknown,
  $metadata: ResponseMetadata,
  sdk: Readonly<Record<string, unknown>>,
): unknown {
  const output: Record<string, unknown> = { $metadata };
  if (parsed && typeof parsed === "object") {
    const members = membersOf(operation, sdk);
    for (const [key, value] of Object.entries(parsed)) {
      if (value != null && key !== "__type" && (members === null || members.has(key))) output[key] = value;
    }
  }
  return output;
}
