import { Counter, Registry } from 'prom-client';
import { HotCounts } from './hot-counts';

describe(HotCounts.name, () => {
  const counter = () =>
    new Counter({
      name: 'calls_total',
      help: 'calls',
      labelNames: ['kind'] as const,
      registers: [new Registry()],
    });

  it('adds what each child counted to its counter once per addAll', async () => {
    const sut = new HotCounts();
    const calls = counter();
    const reads = sut.count(calls, { kind: 'read' });
    const writes = sut.count(calls, { kind: 'write' });
    reads.inc();
    reads.inc();
    writes.inc();

    const before = (await calls.get()).values;
    sut.addAll();
    sut.addAll();
    const after = (await calls.get()).values.map(({ labels, value }) => ({ labels, value }));

    expect(before).toEqual([]);
    expect(after).toEqual([
      { labels: { kind: 'read' }, value: 2 },
      { labels: { kind: 'write' }, value: 1 },
    ]);
  });
});
