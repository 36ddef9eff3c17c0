// Test helper of the refresh module: a database of its own with what the connection and registry apps would have
// recorded (service and connection streams, credentials in the vault), and the module started over real NATS, wired
// as apps/token-refresh wires it.
import { randomBytes, randomUUID } from 'node:crypto';
import { Module, type DynamicModule, type INestMicroservice } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { connectionStreamId, serviceStreamId, type ConnectionEvent, type ServiceEvent, type StoredCredential } from '@plugboard/contracts';
import { connectionCommands, ConnectionListProjection, connectionsMigrations } from '@plugboard/connections';
import { EventStore, eventStoreMigrations } from '@plugboard/event-store';
import { createClientTransport, RpcClient, type BusClient } from '@plugboard/messaging';
import { buildAuthorizationRequest, clientCredentials, exchangeCode, parseAuthorizationResponse, type TokenSet } from '@plugboard/oauth2';
import { authorizeBrowserlessly, type TestAuthorizationServer, type TestClient } from '@plugboard/oauth2/testing';
import { createLogger, dataSourceOptions, loadConfig, PlatformModule, runMigrations, startMicroservice, SubscriptionRunner, subscriptionsProvider, type PlatformConfig, type PlatformOptions } from '@plugboard/runtime';
import { createTestDatabase, TEST_NATS_URL, testMasterKey, testNamespace, type TestDatabase } from '@plugboard/testing';
import { Keyring, Vault, vaultMigrations } from '@plugboard/vault';
import { VerifyScheduleProjection } from '../projections/verify-schedule.projection';
import { RefreshScheduleProjection } from '../projections/refresh-schedule.projection';
import type { RefreshSettings } from '../refresh/refresh-settings';
import { RefreshModule, refreshMigrations } from '../refresh.module';

/** The tables the module stands on: the event log, the vault, the connections' (written by connection commands) and its own. */
export const testMigrations = [...eventStoreMigrations, ...vaultMigrations, ...connectionsMigrations, ...refreshMigrations];
const APP_NAME = 'token-refresh';

@Module({})
class RefreshTestApp {
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>, overrides: Partial<RefreshSettings>): DynamicModule {
    return {
      module: RefreshTestApp,
      imports: [PlatformModule.forRoot({ ...platform, appName: APP_NAME }), RefreshModule.register(overrides)],
      providers: [subscriptionsProvider(RefreshScheduleProjection, VerifyScheduleProjection), SubscriptionRunner],
    };
  }
}

const connectionsReadModel = new ConnectionListProjection();

export const ORG = 'acme';
export const OWNER = 'alice';
export const REDIRECT_URI = 'http://127.0.0.1/callback';

export interface EventRow {
  stream_id: string;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export interface RefreshHarness {
  db: TestDatabase;
  dataSource: DataSource;
  store: EventStore;
  vault: Vault;
  config: PlatformConfig;
  /** What a token-refresh process needs in its environment to join this system (plus PLUGBOARD_REFRESH_*). */
  env: NodeJS.ProcessEnv;
  rpc: RpcClient;
  /** Every line the in-process app logged, at debug level, to check that no secret is ever written. */
  logs(): string;
  start(overrides?: Partial<RefreshSettings>): Promise<INestMicroservice>;
  oauthService(linkName: string, options: { tokenUrl: string; client: Pick<TestClient, 'clientId' | 'clientSecret'>; grantType?: 'authorization_code' | 'client_credentials'; refreshTokenUrl?: string }): Promise<void>;
  connection(linkName: string, service: string, options?: { useLoginUserCredentials?: boolean; scopes?: string[]; authType?: 'oauth2' | 'api_key' }): Promise<void>;
  /** Records an authorization as the connections module's authorize flow does: the credential in the vault with ConnectionAuthorized. */
  authorize(linkName: string, userId: string | null, credential: StoredCredential, options?: { authorizedAt?: Date }): Promise<string>;
  credential(ref: string): Promise<{ value: Extract<StoredCredential, { kind: 'oauth2' }>; version: number }>;
  events(type?: string, streamId?: string): Promise<EventRow[]>;
  close(): Promise<void>;
}

export async function createHarness(): Promise<RefreshHarness> {
  const db = await createTestDatabase();
  await runMigrations(db.url, testMigrations);
  const masterKey = testMasterKey();
  const namespace = testNamespace();
  const env = {
    DATABASE_URL: db.url,
    NATS_URL: TEST_NATS_URL,
    PLUGBOARD_NAMESPACE: namespace,
    PLUGBOARD_MASTER_KEY: masterKey,
    // The servers the tests start listen on 127.0.0.1 over plain http.
    PLUGBOARD_INVOKE_ALLOW_HOSTS: '127.0.0.1',
    DATABASE_POOL_SIZE: '6',
  };
  const config = loadConfig(env);
  const dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
  const store = new EventStore(dataSource);
  const vault = new Vault(Keyring.parse(masterKey));
  const lines: string[] = [];
  const logger = createLogger('test', 'debug', { write: (line: string) => lines.push(line) });
  const apps: INestMicroservice[] = [];
  let bus: BusClient | undefined;
  const at = () => new Date().toISOString();

  return {
    db,
    dataSource,
    store,
    vault,
    config,
    env,
    get rpc() {
      bus ??= createClientTransport({ natsUrl: TEST_NATS_URL, namespace, appName: 'test-product' });
      return new RpcClient(bus);
    },
    logs: () => lines.join(''),
    async start(overrides = {}) {
      const app = await startMicroservice(RefreshTestApp.register({ config, logger }, overrides), APP_NAME, config, logger);
      apps.push(app);
      return app;
    },
    async oauthService(linkName, options) {
      const clientSecretRef = randomUUID();
      const created: ServiceEvent = {
        type: 'ServiceCreated',
        data: {
          orgId: ORG,
          linkName,
          name: linkName,
          authType: 'oauth2',
          baseUrl: null,
          allowedHosts: [],
          owner: OWNER,
          oauth2: {
            grantType: options.grantType ?? 'authorization_code',
            clientId: options.client.clientId,
            authorizeUrl: null,
            accessTokenUrl: options.tokenUrl,
            refreshTokenUrl: options.refreshTokenUrl ?? null,
            paramType: 'header',
            scopes: [{ name: 'api:read', displayName: 'Read' }],
            scopeDelimiter: 'space',
            clientSecretRef,
          },
          createdAt: at(),
        },
      };
      await store.transaction(async (manager) => {
        await vault.put(manager, { id: clientSecretRef, orgId: ORG, purpose: 'service.clientSecret', value: options.client.clientSecret });
        await store.append(serviceStreamId(ORG, linkName), 0, [created], { manager });
      });
    },
    async connection(linkName, service, options = {}) {
      const created: ConnectionEvent = {
        type: 'ConnectionCreated',
        data: {
          orgId: ORG,
          linkName,
          name: linkName,
          service: { linkName: service, type: 'custom', authType: options.authType ?? 'oauth2' },
          scopes: options.scopes ?? ['api:read'],
          parameters: {},
          useLoginUserCredentials: options.useLoginUserCredentials ?? false,
          internal: false,
          owner: OWNER,
          createdAt: at(),
        },
      };
      // As connectionCommands would: the connections' read model written with the event (the credentials rows need it).
      await store.transaction((manager) => store.append(connectionStreamId(ORG, linkName), 0, [created], { manager, inline: connectionsReadModel }));
    },
    async authorize(linkName, userId, credential, options = {}) {
      const credentialRef = randomUUID();
      const expiresAt = credential.kind === 'oauth2' ? credential.expiresAt : null;
      await connectionCommands.handle(
        store,
        {
          type: 'AuthorizeConnection',
          data: { orgId: ORG, userId: userId ?? OWNER, linkName, credentialRef, grantedScopes: null, expiresAt, now: (options.authorizedAt ?? new Date()).toISOString() },
        },
        { alsoWrite: (manager) => vault.put(manager, { id: credentialRef, orgId: ORG, purpose: `connection.${linkName}.credential`, value: credential }) },
      );
      return credentialRef;
    },
    async credential(ref) {
      const found = await vault.getVersioned<StoredCredential>(dataSource.manager, ref, ORG);
      if (!found || found.value.kind !== 'oauth2') throw new Error(`no OAuth 2 credential ${ref}`);
      return { value: found.value, version: found.version };
    },
    events(type, streamId) {
      return dataSource.query(
        `SELECT stream_id, type, data, metadata FROM events WHERE ($1::text IS NULL OR type = $1) AND ($2::text IS NULL OR stream_id = $2) ORDER BY global_position`,
        [type ?? null, streamId ?? null],
      );
    },
    async close() {
      for (const app of apps) await app.close();
      await bus?.close();
      await dataSource.destroy();
      await db.drop();
    },
  };
}

/** Real tokens from the test authorization server, through its authorization code flow (with a refresh token). */
export async function authorizeAt(server: TestAuthorizationServer, client: TestClient): Promise<TokenSet> {
  const request = await buildAuthorizationRequest({
    authorizeUrl: server.authorizeUrl,
    clientId: client.clientId,
    redirectUri: REDIRECT_URI,
    scopes: ['openid', 'offline_access', 'api:read'],
    scopeDelimiter: 'space',
    pkce: true,
    allowInsecureLocalhost: true,
  });
  const callback = await authorizeBrowserlessly(request.url);
  const { code } = parseAuthorizationResponse({ callback: callback.callbackUrl, expectedState: request.state, issuer: server.issuer });
  return exchangeCode({ ...client, allowInsecureLocalhost: true, tokenUrl: server.tokenUrl, redirectUri: REDIRECT_URI, code, codeVerifier: request.codeVerifier });
}

export async function mintAt(server: TestAuthorizationServer, client: TestClient): Promise<TokenSet> {
  return clientCredentials({ ...client, allowInsecureLocalhost: true, tokenUrl: server.tokenUrl, scopes: ['api:read'] });
}

/** The stored form of a token set, with the expiry the test wants (the server's own is an hour). */
export function stored(tokens: Pick<TokenSet, 'accessToken' | 'refreshToken' | 'tokenType' | 'scopes'>, expiresAt: Date | null): Extract<StoredCredential, { kind: 'oauth2' }> {
  return { kind: 'oauth2', accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, tokenType: tokens.tokenType, expiresAt: expiresAt?.toISOString() ?? null, scopes: tokens.scopes };
}

export function randomToken(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString('base64url')}`;
}
