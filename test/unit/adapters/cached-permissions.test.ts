import { describe, expect, it } from "vitest";
import { cachedPermissions } from "../../../adapters/dynamodb/permission-store.ts";
import type { Permission } from "../../../domain/permissions/model.ts";

function store(held: Record<string, Permission[]>) {
  const reads: string[] = [];
  return {
    reads,
    permissionsOf: async (system: string, dataset: string) => {
      reads.push(`${system}/${dataset}`);
      return held[`${system}/${dataset}`] ?? [];
    },
  };
}

const granted = [{ id: "perm-1" } as unknown as Permission];

describe("cachedPermissions", () => {
  it("reads the store on every exchange when the bound is 0, so a revocation counts at once", async () => {
    const permissions = store({ "sys-a/ds-1": granted });
    const read = cachedPermissions(permissions, 0);

    expect(await read("sys-a", "ds-1")).toEqual(granted);
    expect(await read("sys-a", "ds-1")).toEqual(granted);
    expect(permissions.reads).toEqual(["sys-a/ds-1", "sys-a/ds-1"]);
  });

  it("reads each system and dataset pair once within the bound, apart from other pairs", async () => {
    const permissions = store({ "sys-a/ds-1": granted });
    const read = cachedPermissions(permissions, 60_000);

    expect(await read("sys-a", "ds-1")).toEqual(granted);
    expect(await read("sys-a", "ds-1")).toEqual(granted);
    expect(await read("sys-a", "ds-2")).toEqual([]);
    expect(await read("sys-b", "ds-1")).toEqual([]);
    expect(permissions.reads).toEqual(["sys-a/ds-1", "sys-a/ds-2", "sys-b/ds-1"]);
  });
});
