import {
  credentials,
  loadPackageDefinition,
  type Client,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HEALTH_PROTO_PATH } from '../../src/common/paths';

type HealthClient = Client & {
  check(
    request: { service: string },
    callback: (error: ServiceError | null, response: { status: string }) => void,
  ): void;
  watch(request: { service: string }): ClientReadableStream<{ status: string }>;
};

function healthClient(address: string): HealthClient {
  const definition = protoLoader.loadSync(HEALTH_PROTO_PATH, { enums: String });
  const grpc = loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, creds: unknown) => HealthClient } } };
  };
  return new grpc.grpc.health.v1.Health(address, credentials.createInsecure());
}

/** grpc.health.v1.Health/Check through a raw client; resolves to the status name. */
export async function checkHealth(address: string, service = ''): Promise<string> {
  const client = healthClient(address);
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

/**
 * grpc.health.v1.Health/Watch: the status now, then each change, by name, until stopped; a status
 * held for less than a polling interval is seen too.
 */
export function watchHealth(address: string, service = '') {
  const client = healthClient(address);
  const statuses: string[] = [];
  const call = client.watch({ service });
  // The server sends each status it sets, changed or not: only changes are kept.
  call.on('data', ({ status }: { status: string }) => {
    if (statuses.at(-1) !== status) statuses.push(status);
  });
  call.on('error', () => undefined); // CANCELLED, by stop()
  return {
    statuses,
    stop: () => {
      call.cancel();
      client.close();
    },
  };
}
