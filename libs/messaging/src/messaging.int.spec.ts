import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { connect, type NatsConnection } from 'nats';
import { DomainError, ErrorCodes, GetServiceRequestSchema, Subjects, type GetServiceRequest, type ServiceView } from '@plugboard/contracts';
import { eventually, TEST_NATS_URL, testNamespace } from '@plugboard/testing';
import { ContractPipe } from './contract.pipe';
import { RpcClient } from './rpc-client';
import { RpcErrorFilter } from './rpc-error.filter';
import { createClientTransport, createServerTransport } from './transport';

const answeredBy: string[] = [];

function registryStandIn(replica: string) {
  @Controller()
  class GetServiceStandIn {
    @MessagePattern(Subjects.registry.getService)
    get(@Payload(new ContractPipe(GetServiceRequestSchema)) request: GetServiceRequest): ServiceView {
      answeredBy.push(replica);
      if (request.linkName === 'missing') throw new DomainError(ErrorCodes.serviceNotFound, 'No service with link name "missing" exists in this organization.');
      if (request.linkName === 'crash') throw new Error('database password=hunter2 rejected');
      return { name: `Service ${request.linkName}`, linkName: request.linkName, owner: request.actor.userId } as ServiceView;
    }
  }
  @Module({ controllers: [GetServiceStandIn] })
  class StandInModule {}
  return StandInModule;
}

const actor = { orgId: 'acme', userId: 'alice' };

describe.each([
  ['NATS', TEST_NATS_URL],
  ['the in-process bus', undefined],
])('request/reply over %s', (_label, natsUrl) => {
  const namespace = testNamespace();
  const logged: unknown[] = [];
  const contexts: unknown[] = [];
  const servers: INestMicroservice[] = [];
  let rpc: RpcClient;
  let client: ReturnType<typeof createClientTransport>;

  beforeAll(async () => {
    for (const replica of ['r1', 'r2']) {
      const server = await NestFactory.createMicroservice(registryStandIn(replica), {
        strategy: createServerTransport({ natsUrl, namespace, appName: 'service-registry' }),
        logger: false,
      });
      server.useGlobalFilters(
        new RpcErrorFilter((error, context) => {
          logged.push(error);
          contexts.push(context);
        }),
      );
      await server.listen();
      servers.push(server);
    }
    client = createClientTransport({ natsUrl, namespace, appName: 'test' });
    rpc = new RpcClient(client);
  });
  afterAll(async () => {
    await client.close();
    for (const server of servers) await server.close();
  });

  it('carries a typed request and its reply', async () => {
    await expect(rpc.request(Subjects.registry.getService, { actor, linkName: 'crm' })).resolves.toMatchObject({ linkName: 'crm', owner: 'alice' });
  });

  it('keeps a domain error code and sentence from the app to the caller', async () => {
    await expect(rpc.request(Subjects.registry.getService, { actor, linkName: 'missing' })).rejects.toMatchObject({
      code: 'service_not_found',
      message: 'No service with link name "missing" exists in this organization.',
    });
  });

  it('validates the payload where it is received', async () => {
    const bad = { actor: { orgId: 'acme' }, linkName: 42 } as unknown as GetServiceRequest;
    const error = await rpc.request(Subjects.registry.getService, bad).catch((e) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('validation_failed');
    expect(error.details.map((d: { path: string }) => d.path).sort()).toEqual(['actor.userId', 'linkName']);
  });

  it('refuses a NUL in any string and a payload nested past any sane depth, before the schema', async () => {
    const nul = await rpc.request(Subjects.registry.getService, { actor, linkName: 'crm\u0000' }).catch((e) => e);
    expect(nul).toMatchObject({ code: 'invalid_characters' });
    let deep: unknown = 'bottom';
    for (let level = 0; level < 100; level++) deep = [deep];
    const tooDeep = await rpc.request(Subjects.registry.getService, { actor, linkName: 'crm', deep } as unknown as GetServiceRequest).catch((e) => e);
    expect(tooDeep).toMatchObject({ code: 'too_deeply_nested' });
  });

  it('hides an unexpected failure behind internal_error and logs it on the app side', async () => {
    const error = await rpc.request(Subjects.registry.getService, { actor: { ...actor, correlationId: 'req-crash-1' }, linkName: 'crash' }).catch((e) => e);
    expect(error).toMatchObject({ code: 'internal_error' });
    expect(error.message).not.toContain('hunter2');
    expect(String(logged[logged.length - 1])).toContain('hunter2');
    // Under the gateway's request id, which the caller got back in X-Request-Id.
    expect(contexts[contexts.length - 1]).toEqual({ correlationId: 'req-crash-1' });
  });

  it('answers nothing across namespaces: another deployment sees the app as unavailable', async () => {
    const stranger = createClientTransport({ natsUrl, namespace: testNamespace(), appName: 'test' });
    const error = await new RpcClient(stranger).request(Subjects.registry.getService, { actor, linkName: 'crm' }, { timeoutMs: 1500 }).catch((e) => e);
    await stranger.close();
    expect(['unavailable', 'timeout']).toContain(error.code);
  });

  if (natsUrl) {
    it('shares the requests between replicas, each answered once', async () => {
      answeredBy.length = 0;
      await Promise.all(Array.from({ length: 40 }, (_, i) => rpc.request(Subjects.registry.getService, { actor, linkName: `s${i}` })));
      expect(answeredBy).toHaveLength(40);
      expect(new Set(answeredBy)).toEqual(new Set(['r1', 'r2']));
    });
  }
});

describe('closing an app on NATS', () => {
  it('lets the requests it already took finish and answers them, while its replacement takes the new ones', async () => {
    const namespace = testNamespace();
    const started: string[] = [];
    function slowStandIn(replica: string) {
      @Controller()
      class SlowGetService {
        @MessagePattern(Subjects.registry.getService)
        async get(@Payload() request: GetServiceRequest): Promise<ServiceView> {
          started.push(`${replica}:${request.linkName}`);
          if (request.linkName === 'slow') await new Promise((resolve) => setTimeout(resolve, 1500));
          return { name: request.linkName, linkName: request.linkName, owner: replica } as ServiceView;
        }
      }
      @Module({ controllers: [SlowGetService] })
      class SlowModule {}
      return SlowModule;
    }
    const start = async (replica: string) => {
      const server = await NestFactory.createMicroservice(slowStandIn(replica), { strategy: createServerTransport({ natsUrl: TEST_NATS_URL, namespace, appName: 'service-registry' }), logger: false });
      await server.listen();
      return server;
    };
    const client = createClientTransport({ natsUrl: TEST_NATS_URL, namespace, appName: 'test' });
    const rpc = new RpcClient(client);
    const old = await start('old');
    const slow = rpc.request(Subjects.registry.getService, { actor, linkName: 'slow' }, { timeoutMs: 10_000 });
    await eventually(() => expect(started).toContain('old:slow'));
    let closed = false;
    const closing = old.close().then(() => (closed = true));
    const replacement = await start('new');
    try {
      await expect(rpc.request(Subjects.registry.getService, { actor, linkName: 'fast' })).resolves.toMatchObject({ linkName: 'fast' });
      expect(closed).toBe(false);
      await expect(slow).resolves.toMatchObject({ linkName: 'slow', owner: 'old' });
      await closing;
      await expect(rpc.request(Subjects.registry.getService, { actor, linkName: 'after' })).resolves.toMatchObject({ owner: 'new' });
    } finally {
      await client.close();
      await replacement.close();
    }
  });
});

describe('integration events on NATS', () => {
  let nc: NatsConnection;
  beforeAll(async () => (nc = await connect({ servers: TEST_NATS_URL })));
  afterAll(() => nc.close());

  it('publishes each logged event on <namespace>.events.<Type>, stored once in JetStream even when published twice', async () => {
    const { IntegrationEventsPublisher } = await import('./integration-events.publisher');
    const namespace = testNamespace();
    const received: { type: string; id: string }[] = [];
    const sub = nc.subscribe(`${namespace}.events.>`, { callback: (_err, msg) => received.push(JSON.parse(msg.string())) });
    const publisher = new IntegrationEventsPublisher({ natsUrl: TEST_NATS_URL, namespace, appName: 'test' });
    await publisher.start();
    const event = {
      id: '6a8f2f61-3a8e-4c1f-9a57-1d0c3f1b8e21',
      streamId: 'service-acme.crm',
      streamVersion: 1,
      position: 1,
      transactionId: '1',
      type: 'ServiceCreated',
      data: { linkName: 'crm' },
      metadata: {},
      recordedAt: new Date().toISOString(),
    };
    // The same batch twice, as after a crash between publishing and the checkpoint.
    await publisher.handler().handle([event], undefined as never);
    await publisher.handler().handle([event], undefined as never);
    await eventually(() => expect(received.map((m) => m.id)).toContain(event.id));
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(`${namespace.toUpperCase()}_EVENTS`);
    expect(info.state.messages).toBe(1);
    const stored = await jsm.streams.getMessage(`${namespace.toUpperCase()}_EVENTS`, { seq: 1 });
    expect(stored.subject).toBe(`${namespace}.events.ServiceCreated`);
    expect(stored.json()).toMatchObject({ id: event.id, type: 'ServiceCreated', data: { linkName: 'crm' } });
    sub.unsubscribe();
    await publisher.stop();
    await jsm.streams.delete(`${namespace.toUpperCase()}_EVENTS`);
  });
});
