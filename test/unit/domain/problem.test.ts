import { describe, expect, it } from "vitest";
import {
  ConflictError,
  ForbiddenError,
  internalProblem,
  NotFoundError,
  ValidationError,
} from "../../../domain/problem.ts";

describe("problem details", () => {
  it("name every invalid field of a validation failure", () => {
    const error = new ValidationError("2 fields are invalid", [
      { name: "code", reason: "must be 2-16 upper-case letters" },
      { name: "level", reason: "must be central, provincial or commune" },
    ]);

    expect(error.toProblem({ instance: "/v1/agencies", transactionId: "t-1" })).toEqual({
      type: "urn:dscp:problem:validation-failed",
      title: "Request validation failed",
      status: 400,
      detail: "2 fields are invalid",
      instance: "/v1/agencies",
      transactionId: "t-1",
      invalidParams: [
        { name: "code", reason: "must be 2-16 upper-case letters" },
        { name: "level", reason: "must be central, provincial or commune" },
      ],
    });
  });

  it("leave invalidParams out when there are none", () => {
    expect(new NotFoundError("no dataset X").toProblem()).not.toHaveProperty("invalidParams");
  });

  it("keep the class name as the error name, for logs", () => {
    expect(new NotFoundError("x").name).toBe("NotFoundError");
  });

  it("reveal nothing but the transaction id for internal errors", () => {
    expect(internalProblem({ transactionId: "t-9" })).toMatchObject({
      type: "urn:dscp:problem:internal-error",
      status: 500,
      transactionId: "t-9",
    });
  });

  it("give a refusal to an authenticated caller the forbidden type (403)", () => {
    expect(new ForbiddenError("only the operator").toProblem()).toMatchObject({
      type: "urn:dscp:problem:forbidden",
      title: "Forbidden",
      status: 403,
    });
  });

  it("give a clash with what exists the conflict type (409)", () => {
    expect(new ConflictError("agency MPS exists").toProblem()).toMatchObject({
      type: "urn:dscp:problem:conflict",
      title: "Conflict",
      status: 409,
    });
  });
});
