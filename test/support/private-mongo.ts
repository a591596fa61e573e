import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedStack } from '../../src/stack/embedded-stack';

/**
 * An embedded MongoDB (FerretDB on a PostgreSQL) of the spec's own: server-wide counts
 * (serverStatus) then see no other Jest worker's queries.
 */
export async function privateMongo(): Promise<{ mongoUri: string; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'spec-mongo-'));
  const stack = await startEmbeddedStack({ dataDir, redis: false, mongo: true });
  return { mongoUri: stack.mongoUri!, stop: () => stack.stop() };
}
