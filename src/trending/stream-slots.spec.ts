import { status } from '@grpc/grpc-js';
import type { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { StreamSlots } from './stream-slots';

const slots = (max: number, maxPerPeer: number) => {
  const metrics = new MetricsService();
  const config = { trendingStreams: { max, maxPerPeer } } as AppConfig;
  return { sut: new StreamSlots(config, metrics), metrics };
};

const refusals = async (metrics: MetricsService) =>
  Object.fromEntries(
    (await metrics.trendingStreamsRefused.get()).values.map((v) => [v.labels.cap, v.value]),
  );

describe(StreamSlots.name, () => {
  it('counts per peer address: one peer at its cap leaves the others their own', async () => {
    const { sut, metrics } = slots(10, 2);
    sut.take('10.0.0.1');
    sut.take('10.0.0.1');

    expect(() => sut.take('10.0.0.1')).toThrow(
      expect.objectContaining({
        code: status.RESOURCE_EXHAUSTED,
        message: expect.stringContaining('TRENDING_MAX_STREAMS_PER_PEER'),
      }),
    );
    expect(() => sut.take('10.0.0.2')).not.toThrow();
    expect(sut.open).toBe(3);
    expect(await refusals(metrics)).toEqual({ peer: 1 });
  });

  it('refuses any peer once the instance is full, naming TRENDING_MAX_STREAMS', async () => {
    const { sut, metrics } = slots(2, 5);
    sut.take('10.0.0.1');
    sut.take('10.0.0.2');

    expect(() => sut.take('10.0.0.3')).toThrow(/most TRENDING_MAX_STREAMS allows/);
    expect(sut.open).toBe(2);
    expect(await refusals(metrics)).toEqual({ instance: 1 });
  });

  it('gives a slot back once, however often it is released', () => {
    const { sut } = slots(2, 2);
    const release = sut.take('10.0.0.1');
    sut.take('10.0.0.1');

    release();
    release();

    expect(sut.open).toBe(1);
    expect(() => sut.take('10.0.0.1')).not.toThrow();
    expect(() => sut.take('10.0.0.1')).toThrow(/TRENDING_MAX_STREAMS_PER_PEER/);
  });

  it('reports the open streams to the metrics gauge', async () => {
    const { sut, metrics } = slots(5, 5);
    sut.take('10.0.0.1');

    expect((await metrics.trendingStreams.get()).values[0].value).toBe(1);
  });
});
