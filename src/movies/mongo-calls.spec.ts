import { status } from '@grpc/grpc-js';
import { CancelledError, DependencyUnavailableError } from '../common/errors';
import { MetricsService } from '../metrics/metrics.service';
import { MongoCalls } from './mongo-calls';

const failure = (name: string, code?: number) => Object.assign(new Error(name), { name, code });

describe(MongoCalls.name, () => {
  const config = { mongoTimeoutMs: 1000, mongoMaxReads: 2 };
  let sut: MongoCalls;
  beforeEach(() => (sut = new MongoCalls(new MetricsService(), config)));

  it('counts MongoDB as unavailable from an unreachable answer until a call succeeds', async () => {
    const down = sut.run('findTitles', () => Promise.reject(failure('MongoNetworkError')));
    await expect(down).rejects.toBeInstanceOf(DependencyUnavailableError);
    const whileDown = sut.unavailable;

    await sut.run('findTitles', () => Promise.resolve(1));

    expect([whileDown, sut.unavailable]).toEqual([true, false]);
  });

  it('passes any other failure on as it is', async () => {
    const bug = new TypeError('bug');

    await expect(sut.run('firstIds', () => Promise.reject(bug))).rejects.toBe(bug);
    expect(sut.unavailable).toBe(false);
  });

  it('starts no read past its deadline, and gives one no more time than is left', async () => {
    const times: number[] = [];
    const query = (maxTimeMS: number) => Promise.resolve(times.push(maxTimeMS));

    const late = sut.read('findById', () => Date.now() - 1, query);
    await sut.read('findById', () => Date.now() + 200, query);
    await sut.read('findById', () => Infinity, query);

    await expect(late).rejects.toEqual(new CancelledError(status.DEADLINE_EXCEEDED));
    expect(times).toHaveLength(2);
    expect(times[0]).toBeLessThanOrEqual(200);
    expect(times[1]).toBe(config.mongoTimeoutMs);
  });

  it('reports a read out of its caller’s time as DEADLINE_EXCEEDED, not an outage', async () => {
    const expired = () => Promise.reject(failure('MongoServerError', 50));

    const byCaller = sut.read('findById', () => Date.now() + 200, expired);
    const byTimeout = sut.read('findById', () => Infinity, expired);

    await expect(byCaller).rejects.toEqual(new CancelledError(status.DEADLINE_EXCEEDED));
    await expect(byTimeout).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
