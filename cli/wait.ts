/** One second: how often the CLI looks again at work the platform does in the background. */
const INTERVAL_MS = 1000;

export function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
}

/** Waits for work the platform does in the background, checking every second for up to `seconds`. */
export async function until<T>(check: () => Promise<T | undefined>, seconds: number, what: string): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const done = await check();
    if (done !== undefined) return done;
    if (Date.now() >= deadline) throw new Error(`${what} did not finish within ${seconds} s; look again later`);
    await pause();
  }
}

/**
 * Follows a job while it runs: shows its progress, waits a second and looks again, until it stops
 * running; returns it as it last was.
 */
export async function follow<T>(
  job: T,
  running: (job: T) => boolean,
  progress: (job: T) => void,
  next: (job: T) => Promise<T>,
): Promise<T> {
  let current = job;
  while (running(current)) {
    progress(current);
    await pause();
    current = await next(current);
  }
  return current;
}
