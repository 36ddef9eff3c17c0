// A product of another team calling Plugboard over NATS, as it would in any language: the plain `nats` client, JSON
// bodies, HTTP-named headers, and a durable JetStream consumer for the events. It shares no code with Plugboard.
//
//   NATS_URL=nats://127.0.0.1:4222 PLUGBOARD_KEY=pb_… UPSTREAM_URL=http://127.0.0.1:8080 node examples/nats-product/round-trip.mjs
//
// Optional: PLUGBOARD_NAMESPACE (plugboard), PLUGBOARD_USER (the user a product's key acts for), NATS_USER and
// NATS_PASSWORD (the deployment's `product` user; replies then come to its inbox prefix _INBOX.product).
// It prints one JSON line of what it saw and exits 0, or prints why it failed and exits 1.
import { randomUUID } from 'node:crypto';
import { AckPolicy, connect, DeliverPolicy, headers } from 'nats';

const env = process.env;
const namespace = env.PLUGBOARD_NAMESPACE ?? 'plugboard';
const suffix = randomUUID().slice(0, 8);
const linkName = `crm_${suffix}`;
const nc = await connect({
  servers: env.NATS_URL,
  inboxPrefix: '_INBOX.product',
  ...(env.NATS_USER ? { user: env.NATS_USER, pass: env.NATS_PASSWORD } : {}),
});

/** With ROUND_TRIP_TRACE set, each step on stderr: what a hung run got to. */
function trace(step) {
  if (env.ROUND_TRIP_TRACE) process.stderr.write(`${step}\n`);
}

/** One request on `<namespace>.api.<operation>`: the reply is {ok, result} or {ok: false, error: {code, message}}. */
async function call(operation, body) {
  trace(operation);
  const h = headers();
  h.set('Authorization', `Bearer ${env.PLUGBOARD_KEY}`);
  if (env.PLUGBOARD_USER) h.set('X-User-Id', env.PLUGBOARD_USER);
  h.set('X-Request-Id', `round-trip-${suffix}-${operation}`);
  const message = await nc.request(`${namespace}.api.${operation}`, JSON.stringify(body), { timeout: 30_000, headers: h });
  return JSON.parse(new TextDecoder().decode(message.data));
}

async function ok(operation, body) {
  const reply = await call(operation, body);
  if (!reply.ok) throw new Error(`${operation} failed: ${JSON.stringify(reply.error)}`);
  return reply.result;
}

const seen = {};
try {
  const service = await ok('services.create', {
    name: `Acme CRM ${suffix}`,
    linkName: `acme_${suffix}`,
    authType: 'api_key',
    baseUrl: env.UPSTREAM_URL,
    apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'header' }] },
  });
  await ok('connections.create', { name: `CRM ${suffix}`, linkName, service: service.linkName });
  seen.authorized = (await ok('connections.authorize', { linkName, values: { api_key: `key-${suffix}` } })).connection.status;
  seen.invoked = (await ok('invoke', { connection: linkName, method: 'GET', url: '/things' })).status;
  seen.revoked = (await ok('connections.revoke', { linkName })).status;
  const after = await call('invoke', { connection: linkName, method: 'GET', url: '/things' });
  seen.invokeAfterRevoke = after.ok ? 'answered' : after.error.code;

  // The events, as a durable consumer: it keeps its place across restarts of this product.
  const stream = `${namespace.replace(/[^A-Za-z0-9_-]/g, '_').toUpperCase()}_EVENTS`;
  trace(`events of ${stream}`);
  const jsm = await nc.jetstreamManager();
  const durable = `round-trip-${suffix}`;
  await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, filter_subject: `${namespace}.events.>` });
  const consumer = await nc.jetstream().consumers.get(stream, durable);
  trace('durable consumer ready');
  const events = [];
  const wanted = ['ConnectionCreated', 'ConnectionAuthorized', 'ConnectionRevoked'];
  const deadline = Date.now() + 30_000;
  while (!wanted.every((type) => events.some((e) => e.type === type)) && Date.now() < deadline) {
    const message = await consumer.next({ expires: 1000 });
    if (!message) continue;
    const event = message.json();
    trace(`${event.type} ${event.streamId}`);
    if (event.streamId.endsWith(`.${linkName}`)) events.push({ type: event.type, id: event.id, msgId: message.headers?.get('Nats-Msg-Id'), seq: message.seq, correlationId: event.metadata.correlationId });
    message.ack();
  }
  seen.events = events;

  // A replay from a position: another durable consumer that starts at the stream sequence of ConnectionAuthorized.
  const from = events.find((e) => e.type === 'ConnectionAuthorized');
  const replayName = `replay-${suffix}`;
  await jsm.consumers.add(stream, { durable_name: replayName, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.seq });
  const replay = await nc.jetstream().consumers.get(stream, replayName);
  trace(`replay from ${from.seq}`);
  const first = await replay.next({ expires: 5000 });
  seen.replayedFrom = { type: first?.json().type, seq: first?.seq };
  process.stdout.write(`${JSON.stringify(seen)}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ...seen, failed: String(error?.message ?? error) })}\n`);
  process.exitCode = 1;
} finally {
  await nc.close();
}
