import { credentials, loadPackageDefinition, Metadata, type GrpcObject, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * Another product calling Plugboard over gRPC, in a process of its own that knows only the .proto:
 * `node tools/run.js grpc-client.ts <proto path> <host:port> '<calls as JSON>'`, where each call is
 * `{rpc: 'Invoke' | 'GetConnection', request, metadata}`. Prints one JSON line per call: `{ok, response}` or
 * `{ok: false, code, details, metadata}`. Field names are the .proto's own (keepCase), as a client in any language sees them.
 */
interface Call {
  rpc: string;
  request: object;
  /** A list sends the header once per value. */
  metadata: Record<string, string | string[]>;
}

type Unary = (request: object, metadata: Metadata, callback: (error: ServiceError | null, response: object) => void) => void;

async function main(): Promise<void> {
  const [protoPath, address, callsJson] = process.argv.slice(2);
  const definition = loadSync(protoPath, { keepCase: true, defaults: false, oneofs: true });
  const v1 = (loadPackageDefinition(definition).plugboard as GrpcObject).v1 as GrpcObject;
  const Client = v1.Plugboard as ServiceClientConstructor;
  const client = new Client(address, credentials.createInsecure());
  for (const call of JSON.parse(callsJson) as Call[]) {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(call.metadata)) for (const each of [value].flat()) metadata.add(key, each);
    const method = (client as unknown as Record<string, Unary>)[call.rpc].bind(client);
    const outcome = await new Promise<object>((resolve) =>
      method(call.request, metadata, (error, response) =>
        resolve(error ? { ok: false, code: error.code, details: error.details, metadata: error.metadata.getMap() } : { ok: true, response }),
      ),
    );
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
  }
  client.close();
}

void main();
