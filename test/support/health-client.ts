import { credentials, loadPackageDefinition, type Client, type ServiceError } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HEALTH_PROTO_PATH } from '../../src/common/paths';

type HealthClient = Client & {
  check(
    request: { service: string },
    callback: (error: ServiceError | null, response: { status: string }) => void,
  ): void;
};

/** grpc.health.v1.Health/Check through a raw client; resolves to the status name. */
export async function checkHealth(address: string, service = ''): Promise<string> {
  const definition = protoLoader.loadSync(HEALTH_PROTO_PATH, { enums: String });
  const grpc = loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, creds: unknown) => HealthClient } } };
  };
  const client = new grpc.grpc.health.v1.Health(address, credentials.createInsecure());
  try {
    return await new Promise((resolve, reject) =>
      client.check({ service }, (error, response) =>
        error ? reject(error) : resolve(response.status),
      ),
    );
  } finally {
    client.close();
  }
}
