import { describe, expect, it } from "vitest";
import type { LambdaHost } from "../../../runtime/lambda-host.ts";
import { type AslDefinition, StepFunctionsEmulator } from "../../../runtime/step-functions.ts";

const FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:double";

/** A Map of a Lambda task that fails on its first call and is retried, then a Succeed state. */
const definition: AslDefinition = {
  StartAt: "Prepare",
  States: {
    Prepare: { Type: "Pass", Next: "EachNumber" } as never,
    EachNumber: {
      Type: "Map",
      ItemsPath: "$.numbers",
      Iterator: {
        StartAt: "Double",
        States: {
          Double: {
            Type: "Task",
            Resource: FUNCTION_ARN,
            Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 0, MaxAttempts: 2 }],
            End: true,
          } as never,
        },
      },
      Next: "Done",
    } as never,
    Done: { Type: "Succeed" },
  },
};

describe("StepFunctionsEmulator", () => {
  it("counts a transition for each state entered, in Map iterations too, and for each retry", async () => {
    let calls = 0;
    const lambdas = {
      invoke: async (_reference: string, payload: unknown) => {
        calls += 1;
        if (calls === 1) throw new Error("cold start went wrong");
        return Number(payload) * 2;
      },
    } as unknown as LambdaHost;
    const emulator = new StepFunctionsEmulator(
      [
        {
          logicalId: "Doubler",
          arn: "arn:aws:states:us-east-1:000000000000:stateMachine:Doubler",
          name: "Doubler",
          definition,
        },
      ],
      lambdas,
      async () => ({}),
    );

    const record = await emulator.startExecution("Doubler", JSON.stringify({ numbers: [1, 2, 3] }));
    await record.done;
    await new Promise((resolve) => setImmediate(resolve));

    expect(record.status).toBe("SUCCEEDED");
    expect(JSON.parse(record.output ?? "null")).toEqual([2, 4, 6]);
    // Prepare, EachNumber, Done; Double three times; one retry.
    expect(emulator.stateTransitions()).toEqual({ Doubler: 7 });
  });
});
