import { existsSync } from 'node:fs';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { projectRoot } from '../../src/common/paths';
import { startChildService } from '../../src/stack/child-service';
import { freePort } from '../../src/stack/free-port';

const MONGO_JAVA_SERVER_BIN = join(projectRoot(), '.tools/bin/mongo-java-server');

export interface MongoJavaServer {
  uri: string;
  stop(): Promise<void>;
}

async function pings(uri: string): Promise<boolean> {
  const client = new mongoose.mongo.MongoClient(uri, { serverSelectionTimeoutMS: 500 });
  try {
    await client.db('admin').command({ ping: 1 });
    return true;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * mongo-java-server (in memory, with change streams) on a free port, for the change-stream specs:
 * no mongod here, and FerretDB has no change streams. Logs to <dataDir>/logs.
 */
export async function startMongoJavaServer(dataDir: string): Promise<MongoJavaServer> {
  if (!existsSync(MONGO_JAVA_SERVER_BIN)) {
    throw new Error(
      `mongo-java-server not found at ${MONGO_JAVA_SERVER_BIN}: run "npm run setup -- --mongo-java-server"`,
    );
  }
  const port = await freePort();
  const uri = `mongodb://127.0.0.1:${port}/`;
  const service = await startChildService({
    name: 'mongo-java-server',
    command: MONGO_JAVA_SERVER_BIN,
    args: [String(port)],
    port,
    logDir: join(dataDir, 'logs'),
    probe: () => pings(uri),
  });
  return { uri, stop: service.stop };
}
