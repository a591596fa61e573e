import { mongo } from 'mongoose';
import { sleep } from './wait';

/** mongod's failCommand data, the subset the mongo-java-server launcher mirrors. */
export interface FailCommandData {
  failCommands: string[];
  errorCode?: number;
  closeConnection?: boolean;
  errorLabels?: string[];
  /** Holds the command's connection for blockTimeMS, then fails it as the rest says, or runs it. */
  blockConnection?: boolean;
  blockTimeMS?: number;
}

export type FailPointMode = 'off' | 'alwaysOn' | { times: number };

const COMMAND_NOT_FOUND = 59;

/**
 * db.adminCommand({configureFailPoint: 'failCommand', mode, data}), as sent to a mongod started
 * with enableTestCommands (or to our mongo-java-server launcher). Resolves to the fail point's
 * count of commands failed so far.
 */
export async function failCommand(
  client: mongo.MongoClient,
  mode: FailPointMode,
  data?: FailCommandData,
): Promise<number> {
  try {
    const reply = await client
      .db('admin')
      .command({ configureFailPoint: 'failCommand', mode, ...(data ? { data } : {}) });
    return Number(reply.count);
  } catch (error) {
    if (error instanceof mongo.MongoServerError && error.code === COMMAND_NOT_FOUND)
      throw new Error(
        `this MongoDB has no failCommand fail point (mongo-java-server built from older sources? run "npm run setup -- --mongo-java-server"): ${error.message}`,
        { cause: error },
      );
    throw error;
  }
}

/**
 * Waits until the fail point has failed `timesEntered` commands in all (mongod's waitForFailPoint;
 * polled, because the launcher answers at once where mongod waits up to maxTimeMS).
 */
export async function failPointEntered(
  client: mongo.MongoClient,
  timesEntered: number,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client
        .db('admin')
        .command({ waitForFailPoint: 'failCommand', timesEntered, maxTimeMS: 100 });
      return;
    } catch (error) {
      const expired = error instanceof mongo.MongoServerError && error.code === 50;
      if (!expired || Date.now() > deadline) throw error;
      await sleep(20);
    }
  }
}
