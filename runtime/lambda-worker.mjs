// One Lambda execution environment: loads a function's bundled code once, then runs the
// invocations its host sends over IPC, one at a time, like the Lambda runtime does.
// Plain JavaScript on purpose: it runs under bare `node`, as the bundle will on AWS.
import { existsSync } from "node:fs";
import { register } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const codeDir = process.env.DSCP_LOCAL_CODE_DIR;
const handlerSpec = process.env._HANDLER ?? "index.handler";
const providedModulesFrom = process.env.DSCP_LOCAL_PROVIDED_MODULES;
for (const name of ["DSCP_LOCAL_CODE_DIR", "DSCP_LOCAL_PROVIDED_MODULES"]) delete process.env[name];

// The nodejs22.x runtime provides the AWS SDK v3; bundles leave it external. Locally, the
// project's own installed SDK plays that part.
if (providedModulesFrom) {
  const hook = `
    const from = ${JSON.stringify(pathToFileURL(join(providedModulesFrom, "index.js")).href)};
    export async function resolve(specifier, context, next) {
      try { return await next(specifier, context); }
      catch (error) {
        if (error?.code === "ERR_MODULE_NOT_FOUND" && /^@(aws-sdk|smithy|aws-crypto)\\//.test(specifier)) {
          return next(specifier, { ...context, parentURL: from });
        }
        throw error;
      }
    }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}

function describe(error) {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? "").split("\n") };
  }
  return { errorType: "Error", errorMessage: String(error), trace: [] };
}

async function loadHandler() {
  const dot = handlerSpec.lastIndexOf(".");
  const moduleName = handlerSpec.slice(0, dot);
  const exportPath = handlerSpec.slice(dot + 1);
  const candidate = [".mjs", ".js", ".cjs"]
    .map((ext) => join(codeDir, moduleName + ext))
    .find((path) => existsSync(path));
  if (!candidate)
    throw Object.assign(new Error(`Cannot find module '${moduleName}'`), { name: "Runtime.ImportModuleError" });
  const loaded = await import(pathToFileURL(candidate).href);
  const handler = exportPath.split(".").reduce((value, key) => value?.[key], loaded) ?? loaded.default?.[exportPath];
  if (typeof handler !== "function") {
    throw Object.assign(new Error(`${handlerSpec} is undefined or not exported`), { name: "Runtime.HandlerNotFound" });
  }
  return handler;
}

let handler;
try {
  handler = await loadHandler();
  process.send({ type: "ready" });
} catch (error) {
  process.send({ type: "init-error", error: describe(error) });
}

process.on("message", async (message) => {
  if (message?.type !== "invoke") return;
  const { id, event, context: meta } = message;
  process.env._X_AMZN_TRACE_ID = meta.traceId;
  const context = {
    ...meta.context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, meta.deadline - Date.now()),
    done: () => {},
    succeed: () => {},
    fail: () => {},
  };
  try {
    const value =
      handler.length >= 3
        ? await new Promise((resolve, reject) => {
            const result = handler(event, context, (error, output) => (error ? reject(error) : resolve(output)));
            if (result && typeof result.then === "function") result.then(resolve, reject);
          })
        : await handler(event, context);
    process.send({ type: "result", id, ok: true, value: value === undefined ? null : value });
  } catch (error) {
    process.send({ type: "result", id, ok: false, error: describe(error) });
  }
});

// As in Lambda, an error nobody awaited fails the invocation and ends the environment; the
// host starts a fresh one for the next call.
for (const event of ["unhandledRejection", "uncaughtException"]) {
  process.on(event, (reason) => {
    process.send({ type: "crash", error: describe(reason) }, () => process.exit(1));
  });
}
