import { Metadata } from '@grpc/grpc-js';
import { UncountedTraffic } from './uncounted-traffic';

describe(UncountedTraffic.name, () => {
  const header = (value: string) => {
    const metadata = new Metadata();
    metadata.set('x-movie-cache-benchmark', value);
    return metadata;
  };

  it("counts as uncounted only the process's own token, once issued", () => {
    const sut = new UncountedTraffic();
    const own = sut.metadata();

    expect(sut.isUncounted(own)).toBe(true);
    expect(sut.isUncounted(header('0'.repeat(32)))).toBe(false);
    expect(sut.isUncounted(new Metadata())).toBe(false);
  });

  it('refuses a forged value of the right length with a non-hex digit, without throwing', () => {
    const sut = new UncountedTraffic();
    sut.metadata();

    expect(sut.isUncounted(header('0000000000000000000000000z000000'))).toBe(false);
    expect(sut.isUncounted(header('zz'.repeat(16)))).toBe(false);
  });
});
