import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from './config';

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/plugboard' };

function problemsOf(env: NodeJS.ProcessEnv, required: Parameters<typeof loadConfig>[1] = []): string[] {
  try {
    loadConfig(env, required);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('applies defaults', () => {
    expect(loadConfig(base)).toMatchObject({ PORT: 3000, PLUGBOARD_NAMESPACE: 'plugboard', DATABASE_POOL_SIZE: 10, LOG_LEVEL: 'info' });
  });

  it('names every missing or malformed variable', () => {
    const problems = problemsOf({ PORT: 'eighty', NATS_URL: 'http://nats' });
    expect(problems.join('\n')).toMatch(/DATABASE_URL/);
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/NATS_URL/);
  });

  it('reads the callback URLs per region, and names what is wrong with them', () => {
    expect(loadConfig({ ...base, PLUGBOARD_REGION_URLS: 'eu=https://eu.plugboard.example/, in = https://in.plugboard.example' }).PLUGBOARD_REGION_URLS).toEqual({
      eu: 'https://eu.plugboard.example',
      in: 'https://in.plugboard.example',
    });
    expect(loadConfig(base).PLUGBOARD_REGION_URLS).toBeUndefined();
    expect(problemsOf({ ...base, PLUGBOARD_REGION_URLS: 'EU=https://eu.example' })).toEqual(['PLUGBOARD_REGION_URLS must be a list of region=url, each region a lower-case name such as eu']);
    expect(problemsOf({ ...base, PLUGBOARD_REGION_URLS: 'eu=ftp://eu.example' })).toEqual(['PLUGBOARD_REGION_URLS must give an http(s) URL for the region eu']);
    expect(problemsOf({ ...base, PLUGBOARD_REGION_URLS: 'eu=https://a.example,eu=https://b.example' })).toEqual(['PLUGBOARD_REGION_URLS names the region eu twice']);
  });

  it('reads the origins a returnUrl may point at, as origins only', () => {
    expect(loadConfig(base).PLUGBOARD_RETURN_URL_ORIGINS).toEqual([]);
    expect(loadConfig({ ...base, PLUGBOARD_RETURN_URL_ORIGINS: 'https://App.Example.com/, http://localhost:4200 ,https://app.example.com:443' }).PLUGBOARD_RETURN_URL_ORIGINS).toEqual([
      'https://app.example.com',
      'http://localhost:4200',
    ]);
    for (const bad of ['app.example.com', 'javascript:alert(1)', 'ftp://files.example']) {
      expect(problemsOf({ ...base, PLUGBOARD_RETURN_URL_ORIGINS: bad })).toEqual(['PLUGBOARD_RETURN_URL_ORIGINS must be a list of http(s) origins such as https://app.example.com']);
    }
    for (const bad of ['https://app.example.com/settings', 'https://app.example.com?x=1', 'https://good.example@evil.example', 'https://app.example.com#top']) {
      expect(problemsOf({ ...base, PLUGBOARD_RETURN_URL_ORIGINS: bad })[0]).toMatch(/^PLUGBOARD_RETURN_URL_ORIGINS must list origins only/);
    }
  });

  it('requires NATS_URL and the master key where the mode needs them, without echoing values', () => {
    const problems = problemsOf({ ...base, PLUGBOARD_MASTER_KEY: 'not-a-key-s3cret' }, ['NATS_URL', 'PLUGBOARD_MASTER_KEY']);
    expect(problems.join('\n')).toMatch(/NATS_URL is required/);
    expect(problems.join('\n')).toMatch(/PLUGBOARD_MASTER_KEY/);
    expect(problems.join('\n')).not.toContain('s3cret');
  });

  it('reads the deployment switches: migrate at start, health port, shutdown time', () => {
    expect(loadConfig(base)).toMatchObject({ PLUGBOARD_MIGRATE_ON_START: false, PLUGBOARD_SHUTDOWN_TIMEOUT_MS: 30_000 });
    expect(loadConfig(base).HEALTH_PORT).toBeUndefined();
    expect(loadConfig({ ...base, PLUGBOARD_MIGRATE_ON_START: 'true', HEALTH_PORT: '9000' })).toMatchObject({ PLUGBOARD_MIGRATE_ON_START: true, HEALTH_PORT: 9000 });
    expect(problemsOf({ ...base, PLUGBOARD_MIGRATE_ON_START: 'yes', HEALTH_PORT: '70000' }).join('\n')).toMatch(/PLUGBOARD_MIGRATE_ON_START must be true or false[\s\S]*HEALTH_PORT must be a port number|HEALTH_PORT must be a port number[\s\S]*PLUGBOARD_MIGRATE_ON_START must be true or false/);
  });

  it('reads the gRPC port: off when unset, a port number otherwise', () => {
    expect(loadConfig(base).GRPC_PORT).toBeUndefined();
    expect(loadConfig({ ...base, GRPC_PORT: '50051' }).GRPC_PORT).toBe(50051);
    for (const bad of ['0', 'grpc', '65536']) expect(problemsOf({ ...base, GRPC_PORT: bad })).toEqual(['GRPC_PORT must be a port number']);
  });

  it('accepts a master key and a rotation list', () => {
    const k1 = randomBytes(32).toString('base64');
    const k2 = randomBytes(32).toString('base64');
    expect(loadConfig({ ...base, PLUGBOARD_MASTER_KEY: k1 }).PLUGBOARD_MASTER_KEY).toBe(k1);
    expect(problemsOf({ ...base, PLUGBOARD_MASTER_KEY: `new:${k1},old:${k2}` })).toEqual([]);
  });

  it('reads the operators\' identity provider, with defaults, and names what is wrong without echoing the secret', () => {
    const oidc = { authorizeUrl: 'https://id.example/auth', tokenUrl: 'https://id.example/token', userinfoUrl: 'https://id.example/me', clientId: 'plugboard', clientSecret: 'idp-s3cret' };
    const withSecret = { ...base, PLUGBOARD_DASHBOARD_SESSION_SECRET: 'x'.repeat(32) };
    expect(loadConfig({ ...withSecret, PLUGBOARD_OPERATOR_OIDC: JSON.stringify(oidc) }).PLUGBOARD_OPERATOR_OIDC).toEqual({
      ...oidc,
      scope: 'openid profile',
      orgClaim: 'plugboard_org',
      roleClaim: 'plugboard_role',
      userClaim: 'sub',
    });
    const problems = problemsOf({ ...withSecret, PLUGBOARD_OPERATOR_OIDC: JSON.stringify({ ...oidc, tokenUrl: 'ftp://id.example', orgs: [], extra: 1 }) });
    expect(problems.join('\n')).toMatch(/PLUGBOARD_OPERATOR_OIDC tokenUrl must be an http\(s\) URL/);
    expect(problems.join('\n')).toMatch(/PLUGBOARD_OPERATOR_OIDC orgs must name at least one org/);
    expect(problems.join('\n')).toMatch(/PLUGBOARD_OPERATOR_OIDC \(top level\) has unknown fields/);
    expect(problemsOf({ ...withSecret, PLUGBOARD_OPERATOR_OIDC: '{idp-s3cret' })[0]).toMatch(/^PLUGBOARD_OPERATOR_OIDC must be JSON/);
    expect(problemsOf({ ...base, PLUGBOARD_OPERATOR_OIDC: JSON.stringify(oidc) })).toEqual([
      'PLUGBOARD_DASHBOARD_SESSION_SECRET (or PLUGBOARD_MASTER_KEY) is required with PLUGBOARD_OPERATOR_OIDC: it signs the session cookie',
    ]);
    expect(problemsOf({ ...base, PLUGBOARD_DASHBOARD_SESSION_SECRET: 'short' })).toEqual(['PLUGBOARD_DASHBOARD_SESSION_SECRET must be at least 32 characters (openssl rand -base64 32)']);
    expect(JSON.stringify(problems)).not.toContain('idp-s3cret');
  });
});
