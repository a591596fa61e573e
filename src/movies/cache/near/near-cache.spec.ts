import { loadConfig } from '../../../config/app-config';
import { apiMovieFactory } from '../../../../test/factories/api-movie.factory';
import { CachePolicy } from '../cache-policy';
import { NearCache } from './near-cache';

const withConfig = (config: ReturnType<typeof loadConfig>) =>
  new NearCache(config, new CachePolicy(config));

const nearCache = (env: Record<string, string>) => {
  const sut = withConfig(loadConfig(env));
  sut.extendLease(performance.now() + 60_000);
  return sut;
};

describe(NearCache.name, () => {
  it('holds its entry bound through a 100,000-key scan', () => {
    const sut = nearCache({ NEAR_CACHE_MAX_ENTRIES: '1000' });
    for (let i = 0; i < 100_000; i += 1)
      sut.keep(apiMovieFactory(), 60_000, sut.invalidationCount());

    expect(sut.stats()).toMatchObject({ entries: 1_000, evictions: 99_000 });
  });

  it('holds its byte bound when movies are large', () => {
    const sut = nearCache({ NEAR_CACHE_MAX_ENTRIES: '100000', NEAR_CACHE_MAX_MB: '1' });
    const plot = 'x'.repeat(20_000);
    for (let i = 0; i < 100_000; i += 1)
      sut.keep(apiMovieFactory({ plot }), 60_000, sut.invalidationCount());

    const { bytes, entries } = sut.stats();
    expect(bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(entries).toBeGreaterThan(10);
    expect(entries).toBeLessThan(30);
  });

  it('does not keep a copy read before an invalidation arrived', () => {
    const sut = nearCache({});
    const movie = apiMovieFactory();
    const seen = sut.invalidationCount();
    sut.invalidate(movie.id);

    sut.keep(movie, 60_000, seen);

    expect(sut.movie(movie.id)).toBeUndefined();
  });

  it('never weighs a movie below the UTF-16 size of its strings, however many list items it has', () => {
    const sut = nearCache({});
    const cast = Array.from({ length: 1_000 }, (_, i) => String(i % 10));
    const movie = apiMovieFactory({ cast });
    sut.keep(movie, 60_000, sut.invalidationCount());

    const strings = [
      movie.id,
      movie.title,
      movie.plot,
      ...movie.genres,
      ...movie.directors,
      ...cast,
    ];
    expect(sut.stats().bytes).toBeGreaterThanOrEqual(2 * strings.join('').length);
  });

  it('counts as evictions only copies pushed out by its bounds, not replaced or invalidated ones', () => {
    const sut = nearCache({ NEAR_CACHE_MAX_ENTRIES: '2' });
    const [a, b, c] = [apiMovieFactory(), apiMovieFactory(), apiMovieFactory()];
    sut.keep(a, 60_000, sut.invalidationCount());
    sut.keep(a, 60_000, sut.invalidationCount());
    sut.invalidate(a.id);
    for (const movie of [a, b, c]) sut.keep(movie, 60_000, sut.invalidationCount());

    expect(sut.stats()).toMatchObject({ entries: 2, evictions: 1, invalidations: 1 });
  });

  it('does not keep a copy read before it was cleared, whatever invalidations came after', () => {
    const sut = nearCache({});
    const movie = apiMovieFactory();
    const seen = sut.invalidationCount();
    sut.clear();
    sut.invalidate(apiMovieFactory().id);

    sut.keep(movie, 60_000, seen);

    expect(sut.movie(movie.id)).toBeUndefined();
  });

  it('is off while caching is off (CACHE_ENABLED=false)', () => {
    const sut = nearCache({ CACHE_ENABLED: 'false', NEAR_CACHE: 'on' });
    sut.keep(apiMovieFactory(), 60_000, sut.invalidationCount());

    expect(sut.enabled).toBe(false);
    expect(sut.serving).toBe(false);
  });

  it('answers only within its lease, and forgets everything after a lapse', () => {
    const sut = withConfig(loadConfig({}));
    const movie = apiMovieFactory();
    sut.extendLease(performance.now() + 60_000);
    sut.keep(movie, 60_000, sut.invalidationCount());
    expect(sut.movie(movie.id)?.hit.movie).toEqual(movie);

    const lapsed = withConfig(loadConfig({}));
    lapsed.extendLease(performance.now() - 1);
    lapsed.keep(movie, 60_000, lapsed.invalidationCount());
    expect(lapsed.movie(movie.id)).toBeUndefined();
    expect(lapsed.serving).toBe(false);
  });

  it('forgets what it kept, movies and titles, when its lease is extended after a lapse', async () => {
    const sut = withConfig(loadConfig({}));
    const movie = apiMovieFactory();
    sut.extendLease(performance.now() + 20);
    sut.keep(movie, 60_000, sut.invalidationCount());
    sut.keepTitle('title-key', movie.id, sut.titleInvalidationCount());
    await new Promise((resolve) => setTimeout(resolve, 40));

    sut.extendLease(performance.now() + 60_000);

    expect(sut.movie(movie.id)).toBeUndefined();
    expect(sut.title('title-key')).toBeUndefined();
    expect(sut.stats().entries).toBe(0);
  });

  it('keeps what it holds when its lease is extended before it lapsed', () => {
    const sut = nearCache({});
    const movie = apiMovieFactory();
    sut.keep(movie, 60_000, sut.invalidationCount());
    sut.keepTitle('title-key', movie.id, sut.titleInvalidationCount());

    sut.extendLease(performance.now() + 120_000);

    expect(sut.movie(movie.id)?.hit.movie).toEqual(movie);
    expect(sut.title('title-key')).toBe(movie.id);
  });

  it('stops serving and holds nothing once revoked, until its next lease', () => {
    const sut = nearCache({});
    const movie = apiMovieFactory();
    sut.keep(movie, 60_000, sut.invalidationCount());

    sut.revoke();

    expect(sut.serving).toBe(false);
    expect(sut.stats()).toMatchObject({ serving: false, entries: 0, bytes: 0 });
    sut.extendLease(performance.now() + 60_000);
    expect(sut.movie(movie.id)).toBeUndefined();
  });

  it('drops the title -> id map too when cleared', () => {
    const sut = nearCache({});
    sut.keepTitle('title-key', 'some-id', sut.titleInvalidationCount());

    sut.clear();

    expect(sut.title('title-key')).toBeUndefined();
  });

  it('answers a kept copy with one deeply frozen answer, equal to the movie, whatever is done to the movie after', () => {
    const sut = nearCache({});
    const movie = apiMovieFactory({ rating: 5 });
    sut.keep(movie, 60_000, sut.invalidationCount());
    movie.rating = 9;
    movie.cast.push('Someone Else');

    const hit = sut.movie(movie.id)!.hit;

    expect(sut.movie(movie.id)!.hit).toBe(hit);
    expect(
      Object.isFrozen(hit) && Object.isFrozen(hit.movie) && Object.isFrozen(hit.movie.cast),
    ).toBe(true);
    expect(hit.movie).toMatchObject({ rating: 5 });
    expect(hit.movie.cast).not.toContain('Someone Else');
  });

  describe('at the instant its lease ends', () => {
    beforeEach(() => jest.useFakeTimers()); // performance.now() moves only when told
    afterEach(() => jest.useRealTimers());

    it('no longer serves, and forgets what it kept when the lease is extended then', () => {
      const sut = withConfig(loadConfig({}));
      const movie = apiMovieFactory();
      sut.extendLease(performance.now() + 100);
      sut.keep(movie, 60_000, sut.invalidationCount());
      jest.advanceTimersByTime(99);
      expect(sut.movie(movie.id)?.hit.movie).toEqual(movie); // still within it

      jest.advanceTimersByTime(1);
      expect(sut.serving).toBe(false);
      sut.extendLease(performance.now() + 100);

      expect(sut.movie(movie.id)).toBeUndefined();
    });
  });
});
