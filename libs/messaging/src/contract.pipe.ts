import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { MAX_PAYLOAD_DEPTH, parseOrThrow, payloadProblem, refusedPayload } from '@plugboard/contracts';

/** A message wraps a request's body in an envelope (`{actor, invoke: body}`): room for it beyond the body's own limit. */
const ENVELOPE_LEVELS = 2;

/**
 * Validates a message against its contract where it is received: `@Payload(new ContractPipe(Schema))`. Before the
 * schema, the same refusals as the gateway's for raw JSON (too deep, a NUL in a string), for products on the bus.
 */
export class ContractPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    const problem = payloadProblem(value, MAX_PAYLOAD_DEPTH + ENVELOPE_LEVELS);
    if (problem) throw refusedPayload(problem);
    return parseOrThrow(this.schema, value);
  }
}
