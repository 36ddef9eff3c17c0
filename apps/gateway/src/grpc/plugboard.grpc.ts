import { Metadata } from '@grpc/grpc-js';
import { Catch, Controller, Inject, UseFilters, type OnModuleDestroy, type RpcExceptionFilter } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Logger } from 'pino';
import { Observable, throwError, type Subscriber } from 'rxjs';
import { ApiKeys, authenticate, type Principal } from '@plugboard/access';
import {
  DomainError,
  ErrorCodes,
  GRPC_ERROR_CODE_KEY,
  GRPC_CONNECT_LINK_KEY,
  GRPC_ERROR_DETAILS_KEY,
  GRPC_SERVICE,
  GRPC_STATUS,
  ListEventsInputSchema,
  parseOrThrow,
  type Actor,
  type AuthorizeResult,
  type BusApiOperation,
  type ConnectionSnippets,
  type ConnectionView,
  type CreatedConnectLink,
  type ErrorBody,
  type InvokeResponse,
  type Page,
  type Role,
  type ServiceView,
} from '@plugboard/contracts';
import { EventLogNotifier, EventStore } from '@plugboard/event-store';
import { RpcClient } from '@plugboard/messaging';
import { LOGGER, PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { BusApiHandlers, checkParams } from '../bus-api/bus-api.operations';
import { placeOfEvent, toLoggedEventView } from '../routes/events.routes';
import { fieldsOf, parseJsonField, toGrpcEvent, toGrpcPage, toGrpcService, unlessEmpty, type GrpcPage } from './grpc-messages';

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

/** ServiceRef and ConnectionRef of plugboard.proto. */
interface LinkNameRef {
  linkName?: string;
}

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
 * `plugboard.v1.Plugboard` (libs/contracts/proto/plugboard.proto): REST's operations for products that speak gRPC.
 * It authenticates like the HTTP guard (the metadata carries the same headers, each operation needs REST's role) and
 * asks the apps over the bus like the REST routes, so both faces answer the same way.
 */
@Controller()
@UseFilters(GrpcErrorFilter)
export class PlugboardGrpc implements OnModuleDestroy {
  /** Open WatchEvents streams: ended when the gateway stops, or a graceful gRPC shutdown would wait for them forever. */
  private readonly watches = new Set<Subscriber<unknown>>();

  constructor(
    private readonly rpc: RpcClient,
    @Inject(ApiKeys) private readonly apiKeys: ApiKeys,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    private readonly store: EventStore,
    private readonly notifier: EventLogNotifier,
  ) {}

  @GrpcMethod(GRPC_SERVICE, 'Invoke')
  async invoke(request: GrpcInvokeRequest, metadata: Metadata): Promise<GrpcInvokeResponse> {
    // The bus deadline of invoke.request, as for POST /v1/invoke (rpcDeadlines).
    const answer = await this.perform<InvokeResponse>('invoke', metadata, () => ({
      connection: request.connection ?? '',
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      query: request.query,
      body: request.body === 'bodyJson' ? parseJsonField('body_json', request.bodyJson) : request.body === 'bodyText' ? request.bodyText : undefined,
    }));
    const body = typeof answer.body === 'string' ? { bodyText: answer.body } : { bodyJson: JSON.stringify(answer.body) };
    return { status: answer.status, headers: answer.headers, ...body };
  }

  @GrpcMethod(GRPC_SERVICE, 'ListServices')
  async listServices(request: { type?: string; authType?: string; category?: string; q?: string; limit?: number; cursor?: string }, metadata: Metadata): Promise<object> {
    return toGrpcPage(await this.perform<Page<ServiceView>>('services.list', metadata, () => fieldsOf(request)), toGrpcService);
  }

  @GrpcMethod(GRPC_SERVICE, 'CreateService')
  async createService(request: { definitionJson?: string }, metadata: Metadata): Promise<object> {
    return toGrpcService(await this.perform<ServiceView>('services.create', metadata, () => parseJsonField('definition_json', request.definitionJson)));
  }

  @GrpcMethod(GRPC_SERVICE, 'GetService')
  async getService(request: LinkNameRef, metadata: Metadata): Promise<object> {
    return toGrpcService(await this.perform<ServiceView>('services.get', metadata, () => ({}), request));
  }

  @GrpcMethod(GRPC_SERVICE, 'EditService')
  async editService(request: LinkNameRef & { changesJson?: string }, metadata: Metadata): Promise<object> {
    return toGrpcService(await this.perform<ServiceView>('services.edit', metadata, () => parseJsonField('changes_json', request.changesJson), request));
  }

  @GrpcMethod(GRPC_SERVICE, 'DeleteService')
  async deleteService(request: LinkNameRef, metadata: Metadata): Promise<object> {
    await this.perform('services.delete', metadata, () => ({}), request);
    return {};
  }

  @GrpcMethod(GRPC_SERVICE, 'SetServiceClient')
  async setServiceClient(request: LinkNameRef & { clientId?: string; clientSecret?: string }, metadata: Metadata): Promise<object> {
    const client = () => ({ clientId: request.clientId ?? '', clientSecret: request.clientSecret ?? '' });
    return toGrpcService(await this.perform<ServiceView>('services.setClient', metadata, client, request));
  }

  @GrpcMethod(GRPC_SERVICE, 'RemoveServiceClient')
  async removeServiceClient(request: LinkNameRef, metadata: Metadata): Promise<object> {
    return toGrpcService(await this.perform<ServiceView>('services.removeClient', metadata, () => ({}), request));
  }

  @GrpcMethod(GRPC_SERVICE, 'ListConnections')
  async listConnections(request: { view?: string; limit?: number; cursor?: string }, metadata: Metadata): Promise<GrpcPage<ConnectionView>> {
    return toGrpcPage(await this.perform<Page<ConnectionView>>('connections.list', metadata, () => fieldsOf(request)), (view) => view);
  }

  @GrpcMethod(GRPC_SERVICE, 'CreateConnection')
  async createConnection(
    request: { name?: string; linkName?: string; service?: string; scopes?: string[]; parameters?: Record<string, string>; useLoginUserCredentials?: boolean; internal?: boolean },
    metadata: Metadata,
  ): Promise<ConnectionView> {
    return this.perform('connections.create', metadata, () => ({
      ...fieldsOf(request),
      name: request.name ?? '',
      service: request.service ?? '',
      scopes: unlessEmpty(request.scopes),
      parameters: unlessEmpty(request.parameters),
    }));
  }

  @GrpcMethod(GRPC_SERVICE, 'GetConnection')
  async getConnection(request: LinkNameRef, metadata: Metadata): Promise<ConnectionView> {
    return this.perform('connections.get', metadata, () => ({}), request);
  }

  @GrpcMethod(GRPC_SERVICE, 'EditConnection')
  async editConnection(request: LinkNameRef & { changesJson?: string }, metadata: Metadata): Promise<ConnectionView> {
    return this.perform('connections.edit', metadata, () => parseJsonField('changes_json', request.changesJson), request);
  }

  @GrpcMethod(GRPC_SERVICE, 'AuthorizeConnection')
  async authorizeConnection(
    request: LinkNameRef & { values?: Record<string, string>; username?: string; password?: string; returnUrl?: string; region?: string },
    metadata: Metadata,
  ): Promise<AuthorizeResult> {
    // No browser to bind an OAuth flow to: as over NATS, the authorize URL completes wherever it is opened.
    return this.perform(
      'connections.authorize',
      metadata,
      () => {
        const { linkName: _linkName, values, ...rest } = fieldsOf(request);
        return { ...rest, values: unlessEmpty(values) };
      },
      request,
    );
  }

  @GrpcMethod(GRPC_SERVICE, 'RevokeConnection')
  async revokeConnection(request: LinkNameRef & { all?: boolean }, metadata: Metadata): Promise<ConnectionView> {
    return this.perform('connections.revoke', metadata, () => ({ all: request.all ?? false }), request);
  }

  @GrpcMethod(GRPC_SERVICE, 'DeleteConnection')
  async deleteConnection(request: LinkNameRef, metadata: Metadata): Promise<object> {
    await this.perform('connections.delete', metadata, () => ({}), request);
    return {};
  }

  @GrpcMethod(GRPC_SERVICE, 'GetConnectionSnippet')
  async getConnectionSnippet(request: LinkNameRef, metadata: Metadata): Promise<ConnectionSnippets> {
    return this.perform('connections.snippet', metadata, () => ({}), request);
  }

  @GrpcMethod(GRPC_SERVICE, 'CreateConnectLink')
  async createConnectLink(request: { connection?: string; user?: string; returnUrl?: string; expiresIn?: number }, metadata: Metadata): Promise<CreatedConnectLink> {
    return this.perform('connectLinks.create', metadata, () => ({ ...fieldsOf(request), connection: request.connection ?? '' }));
  }

  /**
   * The org's events after `after`, read as GET /v1/events reads them (gap-safe, the org's only), then each batch the
   * log notifier announces; a periodic look covers a lost notification. Ends when the caller cancels (Nest then
   * unsubscribes) or the gateway stops.
   */
  @GrpcMethod(GRPC_SERVICE, 'WatchEvents')
  async watchEvents(request: { after?: number }, metadata: Metadata): Promise<Observable<object>> {
    const { actor } = await this.caller(metadata, 'admin');
    const after = parseOrThrow(ListEventsInputSchema, { after: request.after ?? 0 }).after ?? 0;
    let place = await placeOfEvent(this.store, actor.orgId, after);
    return new Observable<object>((subscriber) => {
      this.watches.add(subscriber);
      let wake: () => void = () => undefined;
      let dirty = true;
      const stopListening = this.notifier.onAppend(() => {
        dirty = true;
        wake();
      });
      const pump = async () => {
        while (!subscriber.closed) {
          if (!dirty) await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, WATCH_POLL_MS).unref();
          });
          dirty = false;
          const { events, heldBack } = await this.store.readAll({ after: place, limit: WATCH_BATCH, orgId: actor.orgId });
          for (const event of events) {
            if (subscriber.closed) return;
            subscriber.next(toGrpcEvent(toLoggedEventView(event)));
            place = event;
          }
          // A full batch, or committed events behind a transaction still open: look again at once.
          if (events.length === WATCH_BATCH || heldBack) dirty = true;
        }
      };
      pump().catch((error: unknown) => subscriber.error(error));
      return () => {
        this.watches.delete(subscriber);
        stopListening();
        wake();
      };
    });
  }

  onModuleDestroy(): void {
    for (const watch of this.watches) watch.complete();
  }

  /**
   * One of the bus API's operations (BusApiHandlers: its role, and what it asks of the apps), as its REST route does
   * it. Who asks is known first, as the REST guard does: an unauthenticated call learns nothing of its fields' faults.
   * `body` is the REST body the request stands for; `param` holds the path parameters, checked as a path is.
   */
  private async perform<T>(operation: BusApiOperation, metadata: Metadata, body: () => unknown, param: object = {}): Promise<T> {
    const handler = BusApiHandlers[operation];
    const { actor, principal } = await this.caller(metadata, handler.role);
    const call = { param: checkParams(param as Record<string, unknown>, handler.params), body: body() as Record<string, unknown> };
    return (await handler.run({ ...call, actor, principal, config: this.config, rpc: this.rpc })) as T;
  }

  private async caller(metadata: Metadata, needed: Role): Promise<{ actor: Actor; principal: Principal }> {
    const first = (key: string) => {
      const value = metadata.get(key)[0];
      return typeof value === 'string' ? value : undefined;
    };
    return authenticate(this.apiKeys, { authorization: first('authorization'), 'x-user-id': first('x-user-id') }, needed);
  }
}

/** How often an idle watch looks at the log even without a notification, and how many events it reads at once. */
const WATCH_POLL_MS = 1_000;
const WATCH_BATCH = 200;
