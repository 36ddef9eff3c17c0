import { z } from 'zod';
import type { EventMetadata } from './event';

/**
 * `GET /v1/events`: the org's events in the log's reading order. `after` is the position of the last event a reader
 * kept (0, or none, for the beginning); `cursor` is a page's `nextCursor`. One or the other, not both.
 */
export const ListEventsInputSchema = z
  .strictObject({
    after: z.coerce
      .number({ error: 'must be the position of an event you read, or 0' })
      .int('must be the position of an event you read, or 0')
      .min(0, 'must be the position of an event you read, or 0')
      .max(Number.MAX_SAFE_INTEGER, 'must be the position of an event you read, or 0')
      .optional(),
    limit: z.coerce.number().int().min(1, 'must be between 1 and 200').max(200, 'must be between 1 and 200').default(50),
    cursor: z.string().max(200).optional(),
  })
  .refine((input) => input.after === undefined || input.cursor === undefined, { path: ['cursor'], message: 'give either after or cursor, not both' });
export type ListEventsInput = z.input<typeof ListEventsInputSchema>;

/**
 * One event as the audit feed shows it. Events never hold a secret (credentials and client secrets are vault
 * references); `metadata` says who caused it (`userId`, `correlationId`).
 */
export interface LoggedEventView {
  position: number;
  type: string;
  streamId: string;
  data: object;
  metadata: EventMetadata;
  recordedAt: string;
}
