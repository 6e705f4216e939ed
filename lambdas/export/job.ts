import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { logger } from "../shared/observability.ts";
import { exportService } from "./wiring.ts";

/** What the export state machine asks of this function. */
export type ExportTask =
  | { readonly action: "run"; readonly exportId: string }
  | { readonly action: "fail"; readonly exportId: string; readonly error?: { Error?: string; Cause?: string } };

/** Writes a package (or marks its export failed), as the export state machine's task. */
export const handler = middy<ExportTask, unknown>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (task) => {
    if (task.action === "run") {
      const job = await exportService().run(task.exportId);
      return { exportId: job.exportId, state: job.state, records: job.archive?.records ?? 0 };
    }
    logger.error("an export failed", { exportId: task.exportId, error: task.error });
    await exportService().fail(task.exportId, `${task.error?.Error ?? "Error"}: ${task.error?.Cause ?? "unknown"}`);
    return { failed: task.exportId };
  });
