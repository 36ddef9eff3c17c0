import type { INestApplication } from '@nestjs/common';
import { Transport, type GrpcOptions } from '@nestjs/microservices';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from 'pino';
import { GRPC_PACKAGE, PLUGBOARD_PROTO_PATH } from '@plugboard/contracts';

/**
 * Serves plugboard.proto on `port` beside the gateway's HTTP routes, in the same Nest application so the gRPC
 * handlers share its key cache and bus client. Closing the application lets calls in flight finish. Server reflection
 * is on, so grpcurl and Postman list and call the operations without the file.
 */
export async function startGrpc(app: INestApplication, port: number, logger: Logger): Promise<void> {
  app.connectMicroservice<GrpcOptions>({
    transport: Transport.GRPC,
    options: {
      package: GRPC_PACKAGE,
      protoPath: PLUGBOARD_PROTO_PATH,
      url: `0.0.0.0:${port}`,
      // camelCase fields like the REST views; `oneofs` names the body field that is set.
      loader: { keepCase: false, longs: Number, defaults: false, oneofs: true },
      gracefulShutdown: true,
      onLoadPackageDefinition: (definition, server) => new ReflectionService(definition).addToServer(server),
    },
  });
  await app.startAllMicroservices();
  logger.info({ port }, 'gRPC is listening');
}
