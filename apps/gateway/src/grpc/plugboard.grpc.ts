import { Metadata } from '@grpc/grpc-js';
import { Catch, Controller, Inject, UseFilters, type RpcExceptionFilter } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Logger } from 'pino';
import { throwError, type Observable } from 'rxjs';
import { ApiKeys, authenticate } from '@plugboard/access';
import {
  DomainError,
  ErrorCodes,
  GRPC_ERROR_CODE_KEY,
  GRPC_CONNECT_LINK_KEY,
  GRPC_ERROR_DETAILS_KEY,
  GRPC_SERVICE,
  GRPC_STATUS,
  invalidField,
  Subjects,
  type Actor,
  type ConnectionView,
  type ErrorBody,
  type Role,
} from '@plugboard/contracts';
import { RpcClient } from '@plugboard/messaging';
import { LOGGER } from '@plugboard/runtime';

/** InvokeRequest of plugboard.proto, as proto-loader hands it over (camelCase, `body` names the oneof that is set). */
interface GrpcInvokeRequest {
  connection?: string;
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: 'bodyJson' | 'bodyText';
  bodyJson?: string;
  bodyText?: string;
}

interface GrpcInvokeResponse {
  status: number;
  headers: Record<string, string>;
  bodyJson?: string;
  bodyText?: string;
}

/** Connection of plugboard.proto: the REST view, with absent instead of null. */
type GrpcConnection = Omit<ConnectionView, 'revokedReason' | 'lastAuthorizedAt' | 'lastRefreshedAt'> & {
  revokedReason?: string;
  lastAuthorizedAt?: string;
  lastRefreshedAt?: string;
};

/** A failure as grpc-js sends it: the status, a sentence, and the Plugboard code in the trailing metadata. */
interface GrpcError {
  code: number;
  details: string;
  metadata: Metadata;
}

/** Every error leaves as a gRPC status with `plugboard-error-code`, as HttpErrorFilter does for HTTP. */
@Catch()
export class GrpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown): Observable<never> {
    const body: ErrorBody = exception instanceof DomainError ? exception.toBody() : DomainError.isErrorBody(exception) ? exception : this.internal(exception);
    const metadata = new Metadata();
    metadata.set(GRPC_ERROR_CODE_KEY, body.code);
    if (body.details) metadata.set(GRPC_ERROR_DETAILS_KEY, JSON.stringify(body.details));
    if (body.connectLink) metadata.set(GRPC_CONNECT_LINK_KEY, JSON.stringify(body.connectLink));
    const error: GrpcError = { code: GRPC_STATUS[body.code], details: body.message, metadata };
    return throwError(() => error);
  }

  private internal(exception: unknown): ErrorBody {
    this.logger.error({ err: exception }, 'gRPC call failed');
    return { code: ErrorCodes.internal, message: 'Something went wrong on our side. It has been logged.' };
  }
}

/**
 * `plugboard.v1.Plugboard` (libs/contracts/proto/plugboard.proto): invoke and connection lookup for products that
 * speak gRPC. It authenticates like the HTTP guard (the metadata carries the same headers) and asks the apps over
 * the bus like the REST routes, so both faces answer the same way.
 */
@Controller()
@UseFilters(GrpcErrorFilter)
export class PlugboardGrpc {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(ApiKeys) private readonly apiKeys: ApiKeys,
  ) {}

  @GrpcMethod(GRPC_SERVICE, 'Invoke')
  async invoke(request: GrpcInvokeRequest, metadata: Metadata): Promise<GrpcInvokeResponse> {
    const actor = await this.actor(metadata, 'member');
    const invoke = {
      connection: request.connection ?? '',
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      query: request.query,
      body: request.body === 'bodyJson' ? parseJson(request.bodyJson ?? '') : request.body === 'bodyText' ? request.bodyText : undefined,
    };
    // The bus deadline of invoke.request, as for POST /v1/invoke (rpcDeadlines).
    const answer = await this.rpc.request(Subjects.invoke.request, { actor, invoke });
    const body = typeof answer.body === 'string' ? { bodyText: answer.body } : { bodyJson: JSON.stringify(answer.body) };
    return { status: answer.status, headers: answer.headers, ...body };
  }

  @GrpcMethod(GRPC_SERVICE, 'GetConnection')
  async getConnection(request: { linkName?: string }, metadata: Metadata): Promise<GrpcConnection> {
    const actor = await this.actor(metadata, 'read_only');
    const { revokedReason, lastAuthorizedAt, lastRefreshedAt, ...rest } = await this.rpc.request(Subjects.connection.getConnection, { actor, linkName: request.linkName ?? '' });
    return { ...rest, revokedReason: revokedReason ?? undefined, lastAuthorizedAt: lastAuthorizedAt ?? undefined, lastRefreshedAt: lastRefreshedAt ?? undefined };
  }

  private async actor(metadata: Metadata, needed: Role): Promise<Actor> {
    const first = (key: string) => {
      const value = metadata.get(key)[0];
      return typeof value === 'string' ? value : undefined;
    };
    return (await authenticate(this.apiKeys, { authorization: first('authorization'), 'x-user-id': first('x-user-id') }, needed)).actor;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidField('body_json', 'must be a JSON document');
  }
}
