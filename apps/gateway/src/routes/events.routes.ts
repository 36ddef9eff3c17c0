import { Controller, Get, Query } from '@nestjs/common';
import { invalidField, ListEventsInputSchema, parseOrThrow, type Actor, type LoggedEventView, type Page, type RecordedEvent } from '@plugboard/contracts';
import { EventStore, START, type LogPosition } from '@plugboard/event-store';
import { CurrentActor, RequiresRole } from '../http/auth';

/**
 * `/v1/events`: the org's audit feed. The gateway reads the log itself, as the dashboard does: it is read-only and
 * spans every app. Pages come from the event store's gap-safe reading, in (transaction id, position) order and never
 * past a transaction still open, so a reader that carries on after the last event it kept never skips one that
 * committed late. Admins only: the feed shows every connection's events and the webhook's URL.
 */
@Controller('v1/events')
@RequiresRole('admin')
export class EventsRoutes {
  constructor(private readonly store: EventStore) {}

  @Get()
  async list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Page<LoggedEventView>> {
    const input = parseOrThrow(ListEventsInputSchema, query);
    const after = input.cursor !== undefined ? decodeCursor(input.cursor) : await placeOfEvent(this.store, actor.orgId, input.after ?? 0);
    const { events } = await this.store.readAll({ after, limit: input.limit + 1, orgId: actor.orgId });
    const page = events.slice(0, input.limit);
    return { items: page.map(toLoggedEventView), nextCursor: events.length > input.limit ? encodeCursor(page[page.length - 1]) : null };
  }
}

/**
 * Where reading resumes after the org's event at `position` (0: the beginning). A position alone does not say it
 * (late commits sit behind it): its event's place does. gRPC's WatchEvents starts from here too.
 */
export async function placeOfEvent(store: EventStore, orgId: string, position: number): Promise<LogPosition> {
  if (position === 0) return START;
  const place = await store.logPositionOf(position, { orgId });
  if (!place) throw invalidField('after', `no event of your org has the position ${position}; pass the position of the last event you read, or 0`);
  return place;
}

export function toLoggedEventView(event: RecordedEvent): LoggedEventView {
  return { position: event.position, type: event.type, streamId: event.streamId, data: event.data, metadata: event.metadata, recordedAt: event.recordedAt };
}

function encodeCursor(place: LogPosition): string {
  return Buffer.from(`${place.transactionId}.${place.position}`).toString('base64url');
}

function decodeCursor(cursor: string): LogPosition {
  const match = /^(\d{1,19})\.(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw invalidField('cursor', 'not a cursor this API gave out; start again without it');
  return { transactionId: match[1], position: Number(match[2]) };
}
