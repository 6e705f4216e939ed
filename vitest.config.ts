import { defineConfig } from "vitest/config";

// One `npm test` runs every layer; each is a project so it can also run alone
// (`npx vitest run --project runtime`).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // Handlers run outside Lambda here: keep Powertools quiet and off the network.
          env: {
            POWERTOOLS_LOG_LEVEL: "SILENT",
            POWERTOOLS_TRACE_ENABLED: "false",
            POWERTOOLS_METRICS_DISABLED: "true",
          },
        },
      },
      { test: { name: "infra", include: ["test/infra/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 300_000 } },
      {
        test: {
          name: "runtime",
          include: ["test/runtime/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
