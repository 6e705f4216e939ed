/**
 * How much of the functions' output the runtime copies to the terminal: nothing, warnings and
 * errors, or every line. Every line always goes to the function's log file.
 */
export type LogEcho = "none" | "warnings" | "all";

/** Log levels (Powertools' and Lambda's JSON log format) that stay in the log file under `warnings`. */
const ROUTINE_LEVELS = new Set(["TRACE", "DEBUG", "INFO"]);

/**
 * Whether a line a function wrote goes to the terminal when only warnings are echoed: a JSON
 * log line at WARN or above, or anything that is not a JSON log line (plain console output,
 * Node's own warnings, the stack of a crash). Routine logs and metrics (EMF documents, which
 * CloudWatch would read) stay in the function's log file.
 */
export function isWarningOrWorse(line: string): boolean {
  if (!line.startsWith("{")) return true;
  let document: unknown;
  try {
    document = JSON.parse(line);
  } catch {
    return true;
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) return true;
  if ("_aws" in document) return false;
  const level = (document as { level?: unknown }).level;
  return typeof level !== "string" || !ROUTINE_LEVELS.has(level.toUpperCase());
}

/** Whether `echo` copies `line` to the terminal. */
export function echoes(echo: LogEcho, line: string): boolean {
  return echo === "all" || (echo === "warnings" && isWarningOrWorse(line));
}
