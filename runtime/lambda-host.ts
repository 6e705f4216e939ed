import { type ChildProcess, fork } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { functionAppId } from "./aws-calls.ts";
import { echoes, type LogEcho } from "./function-output.ts";

/** A function as the template declares it, with its code and environment resolved locally. */
export interface FunctionDefinition {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** Folder holding the bundled code (the staged asset). */
  readonly codeDir: string;
  /** `file.export`, e.g. `index.handler`. */
  readonly handler: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  readonly environment: Readonly<Record<string, string>>;
}

/** An invocation that failed inside the function, shaped like Lambda's error payload. */
export class FunctionError extends Error {
  override readonly name = "FunctionError";
  constructor(
    readonly functionName: string,
    readonly errorType: string,
    errorMessage: string,
    readonly trace: readonly string[] = [],
  ) {
    super(errorMessage);
  }
}

export interface LambdaHostOptions {
  /** Variables every function gets on top of its own (SDK endpoints, region, credentials). */
  readonly baseEnvironment: Readonly<Record<string, string>>;
  /** Folder for one log file per function. */
  readonly logDir: string;
  /** What of the functions' output to copy to this process's stderr, prefixed with the function name. @default "none" */
  readonly echoLogs?: LogEcho;
  /** Execution environments one function may run at once. @default 4 */
  readonly maxConcurrency?: number;
}

/** How long a function's code may take to load before its environment is abandoned. */
const INIT_TIMEOUT_MS = 10_000;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** One execution environment: a child process that keeps the function warm between calls. */
class Environment {
  readonly ready: Promise<void>;
  busy = false;
  private pending: Pending | undefined;
  private dead = false;

  /** CPU time the process had used when last read, in milliseconds. */
  cpuMs = 0;

  constructor(
    private readonly definition: FunctionDefinition,
    private readonly child: ChildProcess,
  ) {
    child.on("error", () => this.kill());
    this.ready = new Promise((resolve, reject) => {
      // Lambda gives a function's start-up (its init phase) ten seconds.
      const initTimer = setTimeout(() => {
        reject(new FunctionError(definition.name, "Sandbox.Timedout", "INIT timed out after 10.00 seconds"));
      }, INIT_TIMEOUT_MS);
      child.once("exit", () => clearTimeout(initTimer));
      child.once("message", (message: { type: string; error?: { errorType: string; errorMessage: string } }) => {
        clearTimeout(initTimer);
        if (message.type === "ready") resolve();
        else
          reject(
            new FunctionError(
              definition.name,
              message.error?.errorType ?? "Runtime.Init",
              message.error?.errorMessage ?? "init failed",
            ),
          );
      });
      child.once("exit", (code) =>
        reject(new FunctionError(definition.name, "Runtime.ExitError", `exited during init with ${code}`)),
      );
    });
    this.ready.catch(() => {});
    child.on(
      "message",
      (message: {
        type: string;
        id?: string;
        ok?: boolean;
        value?: unknown;
        error?: { errorType: string; errorMessage: string; trace?: string[] };
      }) => {
        if (message.type !== "result" && message.type !== "crash") return;
        // A crashed environment is about to exit: never hand it another invocation.
        if (message.type === "crash") this.dead = true;
        const pending = this.pending;
        if (!pending) return;
        this.pending = undefined;
        clearTimeout(pending.timer);
        if (message.ok) pending.resolve(message.value);
        else
          pending.reject(
            new FunctionError(
              definition.name,
              message.error?.errorType ?? "Error",
              message.error?.errorMessage ?? "",
              message.error?.trace,
            ),
          );
      },
    );
    child.on("exit", (code, signal) => {
      this.dead = true;
      const pending = this.pending;
      this.pending = undefined;
      if (pending) {
        clearTimeout(pending.timer);
        pending.reject(
          new FunctionError(definition.name, "Runtime.ExitError", `execution environment exited (${signal ?? code})`),
        );
      }
    });
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Reads the process's CPU time (user + system) so far; keeps the last value once it has ended. */
  readCpuMs(): number {
    if (!this.dead && this.child.pid !== undefined) this.cpuMs = processCpuMs(this.child.pid) ?? this.cpuMs;
    return this.cpuMs;
  }

  invoke(event: unknown, requestId: string): Promise<unknown> {
    const { definition } = this;
    const deadline = Date.now() + definition.timeoutSeconds * 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.kill();
        reject(
          new FunctionError(
            definition.name,
            "Sandbox.Timedout",
            `Task timed out after ${definition.timeoutSeconds.toFixed(2)} seconds`,
          ),
        );
      }, definition.timeoutSeconds * 1000);
      this.pending = { resolve, reject, timer };
      this.child.send({
        type: "invoke",
        id: requestId,
        event,
        context: {
          deadline,
          traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString("hex")};Parent=${randomBytes(8).toString("hex")};Sampled=0`,
          context: {
            awsRequestId: requestId,
            functionName: definition.name,
            functionVersion: "$LATEST",
            invokedFunctionArn: definition.arn,
            memoryLimitInMB: String(definition.memorySize),
            logGroupName: `/aws/lambda/${definition.name}`,
            logStreamName: `local/[$LATEST]${randomBytes(16).toString("hex")}`,
          },
        },
      });
    });
  }

  kill(): void {
    this.dead = true;
    this.child.kill("SIGKILL");
  }
}

/**
 * Runs functions' bundled code the way Lambda does: each function in its own processes, with
 * only its own environment, warm between invocations, one invocation per environment at a time,
 * killed and replaced when it times out.
 */
export class LambdaHost {
  private readonly functions = new Map<string, FunctionDefinition>();
  private readonly environments = new Map<string, Environment[]>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly logs = new Map<string, WriteStream>();
  /** Every environment ever started, per function name, so CPU time survives their end. */
  private readonly started = new Map<string, Environment[]>();
  /** Invocations run and their summed duration (from handing over the event to the result), by logical id. */
  private readonly runs = new Map<string, { count: number; ms: number }>();
  private stopped = false;
  private static readonly workerPath = fileURLToPath(new URL("./lambda-worker.mjs", import.meta.url));
  private static readonly providedModules = fileURLToPath(new URL("..", import.meta.url));

  constructor(private readonly options: LambdaHostOptions) {
    mkdirSync(options.logDir, { recursive: true });
  }

  register(definition: FunctionDefinition): void {
    this.functions.set(definition.name, definition);
    this.functions.set(definition.arn, definition);
    this.functions.set(definition.logicalId, definition);
  }

  /** Finds a function by name, ARN (qualified or not) or logical id. */
  find(reference: string): FunctionDefinition | undefined {
    const unqualified = reference.replace(/^(arn:[^:]+:lambda:[^:]+:[^:]+:function:[^:]+):.*$/, "$1");
    return this.functions.get(reference) ?? this.functions.get(unqualified);
  }

  list(): FunctionDefinition[] {
    return [...new Set(this.functions.values())];
  }

  /** Invokes a function synchronously (RequestResponse) and returns its result. */
  async invoke(reference: string, event: unknown): Promise<unknown> {
    if (this.stopped) throw new FunctionError(reference, "ServiceException", "the local runtime is stopping");
    const definition = this.find(reference);
    if (!definition)
      throw new FunctionError(reference, "ResourceNotFoundException", `Function not found: ${reference}`);
    // Lambda passes events and results as JSON, so what JSON cannot carry does not arrive.
    const payload = JSON.parse(JSON.stringify(event ?? null)) as unknown;
    const environment = await this.acquire(definition);
    const begin = performance.now();
    try {
      return await environment.invoke(payload, randomUUID());
    } finally {
      const runs = this.runs.get(definition.logicalId) ?? { count: 0, ms: 0 };
      this.runs.set(definition.logicalId, { count: runs.count + 1, ms: runs.ms + (performance.now() - begin) });
      this.release(definition, environment);
    }
  }

  /**
   * CPU time (user + system, in milliseconds) each function's execution environments have used
   * since they started, by logical id, read from /proc (Linux; 10 ms ticks per process). An
   * environment that has ended counts with its last reading. Zero where /proc is absent.
   */
  cpuMs(): Record<string, number> {
    const result: Record<string, number> = {};
    for (const [name, list] of this.started) {
      const definition = this.functions.get(name) as FunctionDefinition;
      result[definition.logicalId] = list.reduce((sum, environment) => sum + environment.readCpuMs(), 0);
    }
    return result;
  }

  /** Invocations so far and their summed duration in milliseconds (what Lambda bills), by logical id. */
  invocations(): Record<string, { count: number; ms: number }> {
    return Object.fromEntries([...this.runs].map(([logicalId, runs]) => [logicalId, { ...runs }]));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const queue of this.waiters.values()) for (const wake of queue.splice(0)) wake();
    for (const list of this.environments.values()) for (const environment of list) environment.kill();
    this.environments.clear();
    await Promise.all([...this.logs.values()].map((stream) => new Promise((resolve) => stream.end(resolve))));
    this.logs.clear();
  }

  private async acquire(definition: FunctionDefinition): Promise<Environment> {
    for (;;) {
      if (this.stopped) throw new FunctionError(definition.name, "ServiceException", "the local runtime is stopping");
      const list = (this.environments.get(definition.name) ?? []).filter((environment) => environment.alive);
      this.environments.set(definition.name, list);
      const idle = list.find((environment) => !environment.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (list.length < (this.options.maxConcurrency ?? 4)) {
        const environment = this.spawn(definition);
        environment.busy = true;
        list.push(environment);
        try {
          await environment.ready;
        } catch (error) {
          environment.kill();
          list.splice(list.indexOf(environment), 1);
          // The slot is free again: let a waiting invocation try its own environment.
          this.waiters.get(definition.name)?.shift()?.();
          throw error;
        }
        return environment;
      }
      await new Promise<void>((resolve) => {
        const queue = this.waiters.get(definition.name) ?? [];
        queue.push(resolve);
        this.waiters.set(definition.name, queue);
      });
    }
  }

  private release(definition: FunctionDefinition, environment: Environment): void {
    environment.busy = false;
    this.waiters.get(definition.name)?.shift()?.();
  }

  private spawn(definition: FunctionDefinition): Environment {
    const child = fork(LambdaHost.workerPath, [], {
      cwd: definition.codeDir,
      execArgv: ["--enable-source-maps"],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        TZ: ":UTC",
        LANG: "en_US.UTF-8",
        ...this.options.baseEnvironment,
        ...definition.environment,
        // Local only: the SDK puts it in each request's user agent (`app/<id>`), so the
        // emulators can count calls per function. A function's own setting wins.
        ...(definition.environment.AWS_SDK_UA_APP_ID ? {} : { AWS_SDK_UA_APP_ID: functionAppId(definition.logicalId) }),
        AWS_LAMBDA_FUNCTION_NAME: definition.name,
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memorySize),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${definition.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: `local/${definition.name}`,
        // Reserved variables: Lambda sets these whatever the function's configuration says.
        AWS_EXECUTION_ENV: `AWS_Lambda_${definition.runtime}`,
        LAMBDA_TASK_ROOT: definition.codeDir,
        _HANDLER: definition.handler,
        DSCP_LOCAL_CODE_DIR: definition.codeDir,
        DSCP_LOCAL_PROVIDED_MODULES: LambdaHost.providedModules,
      },
    });
    const log = this.logFor(definition.name);
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on("line", (line) => {
        log.write(`${line}\n`);
        if (echoes(this.options.echoLogs ?? "none", line)) process.stderr.write(`[${definition.logicalId}] ${line}\n`);
      });
    }
    const environment = new Environment(definition, child);
    const started = this.started.get(definition.name) ?? [];
    started.push(environment);
    this.started.set(definition.name, started);
    return environment;
  }

  private logFor(name: string): WriteStream {
    let stream = this.logs.get(name);
    if (!stream) {
      stream = createWriteStream(join(this.options.logDir, `${name}.log`), { flags: "a" });
      this.logs.set(name, stream);
    }
    return stream;
  }
}

/** Clock ticks per second of /proc/<pid>/stat times: USER_HZ, 100 on Linux builds for x86 and Arm. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A process's CPU time (utime + stime) in milliseconds from /proc, or undefined where unreadable. */
export function processCpuMs(pid: number): number | undefined {
  try {
    return cpuMsFromStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** utime + stime (fields 14 and 15 of /proc/<pid>/stat) in milliseconds. */
export function cpuMsFromStat(stat: string): number | undefined {
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}
