import { Injectable } from '@nestjs/common';
import type { InvokeTarget } from '@plugboard/connections';
import type { Actor, InvokeEntry, InvokeInputSchema, InvokeResponse } from '@plugboard/contracts';
import { coversForm, injectCredentials, isFormContentType, parseForm, type FormFields, type OutgoingRequest } from '@plugboard/outbound';
import type { z } from 'zod';
import { InvokeSettings } from './invoke-settings';
import { CallPipeline, type CallTransport } from './pipeline/call-pipeline';
import { callUpstream, forwardable, type UpstreamResponse } from './upstream/upstream-call';

type InvokeInput = z.output<typeof InvokeInputSchema>;

const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** `POST /v1/invoke` and the bus's invoke request (gRPC Invoke and MCP call_api too): the call pipeline with a buffered transport. */
@Injectable()
export class InvokeService {
  constructor(
    private readonly pipeline: CallPipeline,
    private readonly settings: InvokeSettings,
  ) {}

  invoke(actor: Actor, input: InvokeInput, entry: InvokeEntry = 'invoke'): Promise<InvokeResponse> {
    return this.pipeline.run({ entry, actor, connection: input.connection, method: input.method, address: input, started: Date.now() }, new BufferedTransport(input, this.settings));
  }
}

/** The body given in the request (JSON, text or form fields), sent whole each time; the answer read whole and decoded. */
class BufferedTransport implements CallTransport<UpstreamResponse, InvokeResponse> {
  readonly replayable = true;

  constructor(
    private readonly input: InvokeInput,
    private readonly settings: InvokeSettings,
  ) {}

  prepare(): false {
    return false;
  }

  send(target: InvokeTarget, url: URL): Promise<UpstreamResponse> {
    const { input } = this;
    const headers = forwardable(input.headers ?? {}, { fromCaller: true });
    let body: Buffer | null = null;
    let form: FormFields | null = null;
    if (input.body !== undefined && input.body !== null) {
      const isForm = isFormContentType(headers['content-type']);
      if (isForm && typeof input.body === 'object') form = fieldsOf(input.body as object);
      // A form sent as text is read as fields only where the credential goes into it (or signs it); else it goes as is.
      else if (isForm && typeof input.body === 'string' && coversForm(target.injection)) form = parseForm(input.body);
      else if (typeof input.body === 'string') body = Buffer.from(input.body);
      else {
        body = Buffer.from(JSON.stringify(input.body));
        headers['content-type'] ||= 'application/json';
      }
    }
    const outgoing: OutgoingRequest = { method: input.method, url, headers, form, body };
    return callUpstream(injectCredentials(outgoing, target.injection, target.credential), { dispatcher: this.settings.dispatcher, timeoutMs: this.settings.timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES });
  }

  status(answer: UpstreamResponse): number {
    return answer.status;
  }

  headers(answer: UpstreamResponse): Record<string, string> {
    return answer.headers;
  }

  discard(): void {
    // Read whole already: nothing is left to drop.
  }

  deliver(answer: UpstreamResponse): InvokeResponse {
    return { status: answer.status, headers: answer.headers, body: decodeBody(answer) };
  }
}

/** A form given as a JSON object: a field per key, an array value repeating its name. */
function fieldsOf(body: object): FormFields {
  return Object.entries(body).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((one): [string, string] => [name, String(one)]));
}

function decodeBody(response: UpstreamResponse): unknown {
  const text = response.body.toString('utf8');
  if ((response.headers['content-type'] ?? '').includes('json') && text.length > 0) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
