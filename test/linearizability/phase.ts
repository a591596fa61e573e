import { writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import type { Connection } from 'mongoose';
import { MOVIES_COLLECTION } from '../../src/movies/movie.schema';
import { hex, movieFactory } from '../factories/movie.factory';
import { spawnService, type ServiceProcess } from '../support/service-process';
import { checkHistory, type CheckResult } from './checker';
import {
  countOps,
  newOldInversions,
  type Counts,
  type Episode,
  type History,
  type Inversions,
  type Register,
} from './history';
import type { Nemesis } from './nemeses';
import { PhaseServers } from './servers';
import { Clients } from './workload';

export interface PhaseOptions {
  nemesis: Nemesis;
  /** Names the phase's files: the nemesis, with the run's number when repeated. */
  label: string;
  seconds: number;
  nearCache: 'on' | 'off';
  cluster: boolean;
  reportDir: string;
  checkTimeoutSeconds: number;
}

export interface PhaseResult extends CheckResult {
  label: string;
  counts: Counts;
  inversions: Inversions;
}

const INSTANCES = 3;
const MOVIES = 3;
const NEAR_CACHE_LEASE_MS = 500;
/** Calls go on this long after the nemesis healed what it did. */
const HEALED_MS = 1_000;
const ADMIN_TOKEN = 'lincheck-admin-token-0123456789';

// Instances left running (and maybe SIGSTOPped) when the runner exits early are killed.
const live = new Set<ServiceProcess>();
process.once('exit', () => live.forEach((instance) => instance.kill()));

/** Fresh servers, three instances, the clients and the nemesis; then the history is checked. */
export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const { nemesis, label, reportDir } = options;
  const servers = await PhaseServers.start(options.cluster || nemesis.needsCluster);
  let history: History;
  let exitCodes: Array<number | null>;
  try {
    const movies = await seed(servers.mongo, label);
    const env = {
      ...servers.serviceEnv(),
      ADMIN_TOKEN,
      NEAR_CACHE: options.nearCache,
      NEAR_CACHE_LEASE_MS: String(NEAR_CACHE_LEASE_MS),
      SEED_IF_EMPTY: 'false',
      SHUTDOWN_GRACE_MS: '1000',
      LOG_LEVEL: 'warn',
    };
    const instances = await startInstances(env);
    try {
      history = await drive(
        options,
        servers,
        instances,
        await initialStates(servers.mongo, movies),
      );
    } finally {
      instances.forEach((instance, i) =>
        writeFileSync(join(reportDir, `${label}.instance-${i}.log`), instance.output()),
      );
      exitCodes = await Promise.all(instances.map((instance) => instance.stop()));
      instances.forEach((instance) => live.delete(instance));
    }
  } finally {
    await servers.stop();
  }
  const path = join(reportDir, `${label}.history.json`);
  writeFileSync(path, JSON.stringify(history));
  const check = await checkHistory(
    path,
    join(reportDir, `${label}.movie-`),
    options.checkTimeoutSeconds,
  );
  // A shutdown that hangs (the service exits 1 once it is stuck) fails the phase, its history kept.
  if (exitCodes.some((code) => code !== 0))
    throw new Error(`on SIGTERM the instances exited with ${exitCodes.join(', ')}, not all 0`);
  return { ...check, label, counts: countOps(history.ops), inversions: newOldInversions(history) };
}

type Seeded = Pick<Register, 'id' | 'title'>;

async function seed(mongo: Connection, label: string): Promise<Seeded[]> {
  const docs = Array.from({ length: MOVIES }, (_, i) =>
    movieFactory({ title: `Lincheck ${label} ${i + 1}`, rating: 5, revision: 0 }),
  );
  await mongo.collection(MOVIES_COLLECTION).insertMany(docs);
  return docs.map((doc) => ({ id: hex(doc), title: doc.title as string }));
}

/** The instances, all or none: one that fails to start stops the others. */
async function startInstances(env: Record<string, string>): Promise<ServiceProcess[]> {
  const started = await Promise.allSettled(
    Array.from({ length: INSTANCES }, () => spawnService(env)),
  );
  const instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(instances.map((instance) => instance.stop()));
    throw failed.reason;
  }
  instances.forEach((instance) => live.add(instance));
  return instances;
}

/** Each movie's state in MongoDB, read before the clients start. */
async function initialStates(mongo: Connection, movies: Seeded[]): Promise<Register[]> {
  const docs = await mongo
    .collection(MOVIES_COLLECTION)
    .find({ title: { $in: movies.map((m) => m.title) } })
    .toArray();
  return movies.map((movie) => {
    const doc = docs.find((d) => d._id.toHexString() === movie.id);
    if (!doc) throw new Error(`movie ${movie.id} is not in MongoDB`);
    return {
      ...movie,
      initial: { revision: doc.revision ?? 0, rating: doc.imdb?.rating ?? null },
    };
  });
}

async function drive(
  options: PhaseOptions,
  servers: PhaseServers,
  instances: ServiceProcess[],
  movies: Register[],
): Promise<History> {
  const startedAt = new Date().toISOString();
  const origin = process.hrtime.bigint();
  const clock = () => Number(process.hrtime.bigint() - origin);
  const nemesis: Episode[] = [];
  const clients = new Clients(
    instances.map((instance) => instance.address),
    movies,
    clock,
    ADMIN_TOKEN,
  );
  const stopClients = new AbortController();
  const stopNemesis = new AbortController();
  const load = clients.run(stopClients.signal);
  try {
    const fault = options.nemesis.run({
      servers,
      instances,
      movies,
      nearCacheLeaseMs: NEAR_CACHE_LEASE_MS,
      clock,
      episode: (what, start) => nemesis.push({ start, end: clock(), what }),
      stop: stopNemesis.signal,
    });
    await Promise.race([delay(options.seconds * 1_000), fault]);
    stopNemesis.abort();
    await fault;
    await delay(HEALED_MS);
  } finally {
    stopNemesis.abort();
    stopClients.abort();
    await load;
    clients.close();
  }
  return {
    phase: options.label,
    nearCache: options.nearCache,
    redis: servers.cluster ? 'cluster' : 'single',
    seconds: options.seconds,
    clock: 'nanoseconds since the phase began (process.hrtime.bigint in the runner)',
    startedAt,
    instances: instances.map((instance) => instance.address),
    movies,
    ops: clients.ops,
    nemesis,
  };
}
