// Another team's product calling Plugboard over gRPC. It shares no code with Plugboard: plain Node, @grpc/grpc-js,
// @grpc/proto-loader and the plugboard.proto the SDK package publishes. It does the whole round trip and the abuse
// cases, and prints one JSON document of what each step answered for the test to judge:
//   node grpc-product.mjs <proto path> <host:port> '{"keys": {...}, "upstream": "http://..."}'
// keys: admin (a product's key of acme, acting for the user X-User-Id names), alice (a person's key of acme, bound to
// alice), globex (a product's key of another org).
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const [protoPath, address, configJson] = process.argv.slice(2);
const { keys, upstream } = JSON.parse(configJson);

// The standard reflection API (grpc/reflection/v1/reflection.proto), the part of it this product asks.
const REFLECTION_PROTO = `syntax = "proto3";
package grpc.reflection.v1;
service ServerReflection { rpc ServerReflectionInfo(stream ServerReflectionRequest) returns (stream ServerReflectionResponse); }
message ServerReflectionRequest { string host = 1; oneof message_request { string file_containing_symbol = 4; string list_services = 7; } }
message ServerReflectionResponse {
  oneof message_response { FileDescriptorResponse file_descriptor_response = 4; ListServiceResponse list_services_response = 6; ErrorResponse error_response = 7; }
}
message FileDescriptorResponse { repeated bytes file_descriptor_proto = 1; }
message ListServiceResponse { repeated ServiceResponse service = 1; }
message ServiceResponse { string name = 1; }
message ErrorResponse { int32 error_code = 1; string error_message = 2; }
`;

const load = (file) => grpc.loadPackageDefinition(protoLoader.loadSync(file, { keepCase: true, longs: Number, defaults: false, oneofs: true }));
const plugboard = new (load(protoPath).plugboard.v1.Plugboard)(address, grpc.credentials.createInsecure());
const reflectionFile = path.join(mkdtempSync(path.join(tmpdir(), 'reflection-')), 'reflection.proto');
writeFileSync(reflectionFile, REFLECTION_PROTO);
const reflection = new (load(reflectionFile).grpc.reflection.v1.ServerReflection)(address, grpc.credentials.createInsecure());

function metadataOf(key, user) {
  const metadata = new grpc.Metadata();
  if (key) metadata.set('authorization', `Bearer ${key}`);
  if (user) metadata.set('x-user-id', user);
  return metadata;
}

/** One unary call: `{ok: true, response}` or `{ok: false, code, details, errorCode}`. */
function call(rpc, request, key, user) {
  return new Promise((resolve) =>
    plugboard[rpc](request, metadataOf(key, user), (error, response) =>
      resolve(error ? { ok: false, code: error.code, details: error.details, errorCode: error.metadata.get('plugboard-error-code')[0] } : { ok: true, response }),
    ),
  );
}

/** WatchEvents from `after`, collecting what arrives until cancelled; `ended` says how the stream closed. */
function watch(after, key, user) {
  const events = [];
  const stream = plugboard.WatchEvents({ after }, metadataOf(key, user));
  const ended = new Promise((resolve) => {
    stream.on('error', (error) => resolve({ code: error.code, errorCode: error.metadata?.get('plugboard-error-code')[0] }));
    stream.on('end', () => resolve({ code: grpc.status.OK }));
  });
  stream.on('data', (event) => events.push({ position: event.position, type: event.type, streamId: event.stream_id, orgId: JSON.parse(event.metadata_json).orgId, data: JSON.parse(event.data_json) }));
  return { events, ended, cancel: () => stream.cancel() };
}

async function until(check, timeoutMs = 15_000) {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) if (check()) return true;
  return false;
}

async function reflect(request) {
  const stream = reflection.ServerReflectionInfo();
  stream.write(request);
  const [answer] = await once(stream, 'data');
  stream.end();
  return answer;
}

const out = {};
// Reflection: the services the server offers, and the file that defines Plugboard's.
out.reflectedServices = (await reflect({ list_services: '' })).list_services_response.service.map((s) => s.name);
const descriptor = (await reflect({ file_containing_symbol: 'plugboard.v1.Plugboard' })).file_descriptor_response.file_descriptor_proto;
out.reflectedMethods = ['WatchEvents', 'CreateService', 'AuthorizeConnection'].filter((name) => descriptor.some((file) => Buffer.from(file).includes(name)));

// Watch the org's events from the beginning while the round trip happens.
const live = watch(0, keys.admin, 'ops');
out.watchWithoutAdmin = await watch(0, keys.alice).ended;

const service = { name: 'Product API', linkName: 'product_api', authType: 'api_key', baseUrl: upstream, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] } };
out.createServiceWithoutKey = await call('CreateService', { definition_json: JSON.stringify({ ...service, linkName: 'ghost_api' }) });
out.createService = await call('CreateService', { definition_json: JSON.stringify(service) }, keys.alice);
out.getService = await call('GetService', { link_name: 'product_api' }, keys.alice);
out.listServices = await call('ListServices', { type: 'custom' }, keys.alice);
out.createConnection = await call('CreateConnection', { name: 'Product CRM', link_name: 'crm', service: 'product_api' }, keys.alice);
out.createConnectionCrlf = await call('CreateConnection', { name: 'Evil', link_name: 'crm2\r\nX-Evil: 1', service: 'product_api' }, keys.alice);
out.createConnectLinkNul = await call('CreateConnectLink', { connection: 'crm\u0000' }, keys.alice);
out.authorizeAsAnother = await call('AuthorizeConnection', { link_name: 'crm', values: { 'X-Api-Key': 'stolen-key' } }, keys.alice, 'mallory');
out.authorize = await call('AuthorizeConnection', { link_name: 'crm', values: { 'X-Api-Key': 'product-secret-7' } }, keys.alice);
out.invoke = await call('Invoke', { connection: 'crm', method: 'GET', url: '/things' }, keys.alice);
out.invokeWithoutKey = await call('Invoke', { connection: 'crm', method: 'GET', url: '/things' });
out.otherOrgGet = await call('GetConnection', { link_name: 'crm' }, keys.globex, 'alice');
out.otherOrgRevoke = await call('RevokeConnection', { link_name: 'crm' }, keys.globex, 'alice');
out.otherOrgInvoke = await call('Invoke', { connection: 'crm', method: 'GET', url: '/things' }, keys.globex, 'alice');
// Another org's activity while the watch runs: it must never reach acme's stream.
out.otherOrgCreateService = await call('CreateService', { definition_json: JSON.stringify({ ...service, linkName: 'globex_api' }) }, keys.globex, 'gina');
out.editConnection = await call('EditConnection', { link_name: 'crm', changes_json: JSON.stringify({ name: 'Product CRM (prod)' }) }, keys.alice);
out.listConnections = await call('ListConnections', {}, keys.alice);
out.snippet = await call('GetConnectionSnippet', { link_name: 'crm' }, keys.alice);
out.connectLink = await call('CreateConnectLink', { connection: 'crm', expires_in: 600 }, keys.alice);
out.revoke = await call('RevokeConnection', { link_name: 'crm' }, keys.alice);
out.invokeRevoked = await call('Invoke', { connection: 'crm', method: 'GET', url: '/things' }, keys.alice);
out.scratchService = await call('CreateService', { definition_json: JSON.stringify({ ...service, linkName: 'scratch_api' }) }, keys.alice);
out.editService = await call('EditService', { link_name: 'scratch_api', changes_json: JSON.stringify({ name: 'Scratch' }) }, keys.alice);
out.deleteService = await call('DeleteService', { link_name: 'scratch_api' }, keys.alice);

out.watchSawAll = await until(() => live.events.some((event) => event.type === 'ServiceDeleted'));
live.cancel();
out.watchEnded = await live.ended;
out.watched = live.events;
// From a position: the events after the first one, and nothing before it.
const resumed = watch(live.events[0]?.position ?? 0, keys.admin, 'ops');
await until(() => resumed.events.length >= live.events.length - 1);
resumed.cancel();
await resumed.ended;
out.resumed = resumed.events;
out.watchFromUnknownPosition = await watch(987_654_321, keys.admin, 'ops').ended;

plugboard.close();
reflection.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
