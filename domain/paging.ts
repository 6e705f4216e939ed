import * as z from "zod/mini";

/** The `limit` query parameter of every listing: 1-100, as text (default 25). */
export const pageLimit = z.optional(
  z
    .string()
    .check(
      z.regex(/^(100|[1-9][0-9]?)$/, "must be an integer from 1 to 100"),
      z.describe("Page size, 1-100 (default 25)"),
    ),
);

/** A paged read: one page from a cursor, and the cursor of the next page when there is one. */
export type Paged<T> = (page: { limit: number; cursor?: string }) => Promise<{ items: T[]; nextCursor?: string }>;

/**
 * Every item of a paged read, in order, a page at a time, the next page read while the caller
 * works through this one: a long scan waits on the store about once, not once a page.
 */
export async function* allPages<T>(read: Paged<T>, limit: number): AsyncGenerator<T> {
  const fetch = (cursor?: string) => {
    const page = read({ limit, ...(cursor ? { cursor } : {}) });
    // Awaited below; this only keeps a read the caller abandoned from being an unhandled rejection.
    page.catch(() => undefined);
    return page;
  };
  let next = fetch();
  for (;;) {
    const page = await next;
    if (page.nextCursor) next = fetch(page.nextCursor);
    yield* page.items;
    if (!page.nextCursor) return;
  }
}
