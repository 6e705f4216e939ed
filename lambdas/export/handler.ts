import { stepFunctionsStarter } from "../../adapters/sfn/pipeline.ts";
import { exportRoutes } from "../../api/exports.ts";
import { parseJsonBody } from "../../domain/validation.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { accepted, httpHandler, ok } from "../shared/http.ts";
import { dispatch, pathParameter } from "../shared/routes.ts";
import { exportApiEnvironment } from "./environment.ts";
import { exportService } from "./wiring.ts";

const environment = lazyEnvironment(exportApiEnvironment);
const exports = () =>
  exportService(() => {
    const start = stepFunctionsStarter(environment().EXPORT_STATE_MACHINE_ARN);
    return (exportId) => start(exportId, { exportId });
  });

/** Export packages (Art. 7.2d): started, then followed to a download link. */
export const handler = httpHandler(
  dispatch(exportRoutes, {
    startExport: async (event, { transactionId }) =>
      accepted(exports().start(authenticatedCaller(event), parseJsonBody(event.body), transactionId)),
    getExport: async (event) => ok(exports().status(authenticatedCaller(event), pathParameter(event, "exportId"))),
  }),
);
