import { invalidField, payloadProblem, refusedPayload, type LoggedEventView, type Page, type ServiceView } from '@plugboard/contracts';

/*
 * plugboard.proto's messages as proto-loader hands them over and takes them back (camelCase fields, `defaults: false`:
 * an unset field is absent, an empty repeated or map field too). Replies may hold null where the .proto has an
 * optional field: protobufjs leaves a null field unset, which is how the .proto says "absent".
 */

/**
 * A request's own fields. With `oneofs`, proto-loader also names the field set of each proto3 `optional` (its
 * synthetic oneof `_<field>`), which the contracts' strict schemas would refuse as unknown keys.
 */
export function fieldsOf<T extends object>(request: T): T {
  return Object.fromEntries(Object.entries(request).filter(([key]) => !key.startsWith('_'))) as T;
}

/**
 * A `*_json` field: the REST body it stands for, or INVALID_ARGUMENT naming the field. It is refused as REST refuses a
 * body (too deep, or a NUL) before anything walks it: serializing it for the bus would overflow the stack.
 */
export function parseJsonField(field: string, text: string | undefined): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    throw invalidField(field, 'must be a JSON document');
  }
  const problem = payloadProblem(value);
  if (problem) throw refusedPayload(problem);
  return value;
}

/** An empty repeated or map field is absent: proto3 cannot tell them apart, and absent means "the default" here. */
export function unlessEmpty<T extends object>(value: T | undefined): T | undefined {
  return value && Object.keys(value).length > 0 ? value : undefined;
}

export interface GrpcPage<T> {
  items: T[];
  nextCursor?: string;
}

export function toGrpcPage<V, T>(page: Page<V>, each: (view: V) => T): GrpcPage<T> {
  return { items: page.items.map(each), nextCursor: page.nextCursor ?? undefined };
}

/** Service: the fields every service has, typed; the rest of the view (its auth type's block and more) as JSON. */
export function toGrpcService(view: ServiceView): object {
  const { name, linkName, type, authType, baseUrl, allowedHosts, owner, connectionCount, createdAt, updatedAt, ...definition } = view;
  return { name, linkName, type, authType, baseUrl, allowedHosts, owner, connectionCount, createdAt, updatedAt, definitionJson: JSON.stringify(definition) };
}

export function toGrpcEvent(event: LoggedEventView): object {
  return { position: event.position, type: event.type, streamId: event.streamId, dataJson: JSON.stringify(event.data), metadataJson: JSON.stringify(event.metadata), recordedAt: event.recordedAt };
}
