import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes, type Actor, type InvokeEntry, type InvokeInputSchema, type InvokeResponse } from '@plugboard/contracts';
import { coversForm, injectCredentials, isFormContentType, parseForm, type FormFields, type OutgoingRequest } from '@plugboard/outbound';
import type { z } from 'zod';
import { InvocationLog } from './invocation-log';
import { InvokeSettings } from './invoke-settings';
import { TargetResolver, type InvokeTarget } from './targets/target.resolver';
import { retryDelay } from './upstream/retry-policy';
import { callUpstream, forwardable, type UpstreamResponse } from './upstream/upstream-call';

type InvokeInput = z.output<typeof InvokeInputSchema>;

const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** `POST /v1/invoke` and the NATS invoke: resolve, check where the call goes, inject, send, and retry once after a refresh. */
@Injectable()
export class InvokeService {
  constructor(
    private readonly targets: TargetResolver,
    private readonly settings: InvokeSettings,
    private readonly log: InvocationLog,
  ) {}

  async invoke(actor: Actor, input: InvokeInput, entry: InvokeEntry = 'invoke'): Promise<InvokeResponse> {
    const started = Date.now();
    let url: URL | null = null;
    const record = (status: number | null, errorCode: string | null) => this.log.record({ entry, actor, connection: input.connection, method: input.method, url, status, errorCode, started });
    try {
      let target = await this.targets.resolve(actor, input.connection);
      url = this.settings.destinations.resolve(target, input.url, input.query);
      let response = await this.send(target, input, url);
      if (response.status === 401 && target.injection.kind === 'oauth2') {
        const fresh = await this.targets.refreshed(actor, target);
        if (fresh) {
          target = fresh;
          response = await this.send(target, input, url);
        }
      }
      for (let attempt = 0, delay; (delay = retryDelay(this.settings.retry, input.method, response.status, response.headers, attempt)) !== null; attempt++) {
        await sleep(delay);
        // The credential may have been revoked while this call waited.
        target = await this.targets.confirm(actor, target);
        response = await this.send(target, input, url);
      }
      record(response.status, null);
      return { status: response.status, headers: response.headers, body: decodeBody(response) };
    } catch (error) {
      record(null, error instanceof DomainError ? error.code : ErrorCodes.internal);
      throw error;
    }
  }

  private send(target: InvokeTarget, input: InvokeInput, url: URL): Promise<UpstreamResponse> {
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
    return callUpstream(injectCredentials(outgoing, target.injection, target.credential), { lookup: this.settings.lookup, timeoutMs: this.settings.timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES });
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
