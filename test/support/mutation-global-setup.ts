import globalSetup from './global-setup';

/**
 * Mutation runs (npm run test:mutation): the servers are already up (MONGODB_URI, REDIS_URL);
 * each Stryker worker takes its own Redis database, as the specs flush theirs.
 */
export default async function mutationGlobalSetup(): Promise<void> {
  const worker = Number(process.env.STRYKER_MUTATOR_WORKER ?? 0);
  process.env.REDIS_URL = `${process.env.REDIS_URL}/${worker + 1}`;
  await globalSetup();
}
