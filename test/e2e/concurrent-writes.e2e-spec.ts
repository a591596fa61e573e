import { movieFactory } from '../factories/movie.factory';
import { startTestApp } from '../support/test-app';

describe('concurrent writes of one movie', () => {
  it('lose none: 40 concurrent UpdateRatings raise the revision 40 times, each answered with its own', async () => {
    const movie = movieFactory({ title: 'Contended', revision: 0 });
    const id = movie._id.toHexString();
    const t = await startTestApp({ movies: [movie] });
    try {
      const writes = await Promise.all(
        Array.from({ length: 40 }, (_, i) => t.api.updateRating({ id, rating: i / 10 })),
      );

      const revisions = writes.map((w) => w.movie!.revision).sort((a, b) => a - b);
      expect(revisions).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      const stored = await t.movies.findOne({ _id: movie._id });
      const last = writes.find((w) => w.movie!.revision === 40)!.movie!;
      expect(stored).toMatchObject({ revision: 40, imdb: { rating: last.rating } });
      expect((await t.api.getMovie({ id })).movie).toMatchObject({
        revision: 40,
        rating: last.rating,
      });
    } finally {
      await t.close();
    }
  });
});
