import globalSetup from './global-setup';

/**
 * Mutation runs (npm run test:mutation): the servers are already up (MONGODB_URI, REDIS_URL);
 * each Stryker worker takes its own Redis database, as the specs flush theirs (a worker that
 * Stryker restarts gets a new id; scripts/with-stack.ts starts Redis with 10,000 databases).
 */
export default async function mutationGlobalSetup(): Promise<void> {
  const worker = Number(process.env.STRYKER_MUTATOR_WORKER ?? 0);
  process.env.REDIS_URL = `${process.env.REDIS_URL}/${worker + 1}`;
  await globalSetup();
}
