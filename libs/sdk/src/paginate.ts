import type { Page } from '@plugboard/contracts';

/**
 * Every item of a paged list, page after page, following `nextCursor` until it is null. Pages are fetched as the
 * loop asks for them, so breaking out early fetches no more.
 */
export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
