import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CatalogSchema, type CatalogEntry } from './catalog.schema';

/** Where the catalog data lives, relative to this file (libs/catalog/src → libs/catalog/data). */
export const CATALOG_DATA_PATH = join(__dirname, '..', 'data', 'services.json');

let cached: readonly CatalogEntry[] | undefined;
let byLinkName: ReadonlyMap<string, CatalogEntry> | undefined;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

/** Reads and validates a catalog file; throws with every problem listed when it does not match the schema. */
export function parseCatalogFile(path: string): CatalogEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`service catalog ${path} could not be read: ${(error as Error).message}`);
  }
  const result = CatalogSchema.safeParse(raw);
  if (!result.success) throw new Error(`service catalog ${path} is invalid:\n${z.prettifyError(result.error)}`);
  return result.data;
}

/**
 * The predefined services, validated against the schema on first use and cached. Entries are frozen: copy one before
 * changing it. The returned array is a fresh copy each time.
 */
export function loadCatalog(): CatalogEntry[] {
  if (!cached) {
    const entries = deepFreeze(parseCatalogFile(CATALOG_DATA_PATH));
    cached = entries;
    byLinkName = new Map(entries.map((entry) => [entry.linkName, entry]));
  }
  return [...cached];
}

/** The predefined service with this link name, or undefined. */
export function findCatalogEntry(linkName: string): CatalogEntry | undefined {
  if (!byLinkName) loadCatalog();
  return byLinkName?.get(linkName);
}
