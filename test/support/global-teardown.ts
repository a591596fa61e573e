export default async function globalTeardown(): Promise<void> {
  await globalThis.__MOVIE_CACHE_STACK__?.stop();
}
