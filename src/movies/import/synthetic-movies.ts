import { Faker, en } from '@faker-js/faker';
import { ObjectId, type Document } from 'bson';

const GENRES = [
  'Drama', 'Comedy', 'Action', 'Thriller', 'Romance', 'Crime', 'Adventure', 'Horror',
  'Documentary', 'Animation', 'Sci-Fi', 'Family', 'Mystery', 'Fantasy', 'Western', 'War',
]; // prettier-ignore

/** Synthetic ids are 0xfe + 3 seed bytes + 8 index bytes: deterministic, never clash with real ObjectIds' timestamps. */
export function syntheticId(seed: number, index: number): ObjectId {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(((0xfe << 24) | (seed & 0xffffff)) >>> 0, 0);
  bytes.writeBigUInt64BE(BigInt(index), 4);
  return new ObjectId(bytes);
}

/** count realistic sample_mflix-shaped movies; the same seed gives the same documents. */
export function* syntheticMovies(count: number, seed = 1): Generator<Document> {
  const faker = new Faker({ locale: [en] });
  faker.seed(seed);
  for (let index = 0; index < count; index += 1) {
    const words = faker.number.int({ min: 1, max: 4 });
    const title = faker.lorem.words(words).replace(/\b\w/g, (c) => c.toUpperCase());
    const hasRating = faker.number.float({ min: 0, max: 1 }) > 0.02;
    yield {
      _id: syntheticId(seed, index),
      title,
      year: faker.number.int({ min: 1910, max: 2024 }),
      plot: faker.lorem.sentence({ min: 8, max: 24 }),
      genres: faker.helpers.arrayElements(GENRES, { min: 1, max: 3 }),
      directors: Array.from({ length: faker.number.int({ min: 1, max: 2 }) }, () =>
        faker.person.fullName(),
      ),
      cast: Array.from({ length: faker.number.int({ min: 2, max: 6 }) }, () =>
        faker.person.fullName(),
      ),
      runtime: faker.number.int({ min: 60, max: 200 }),
      imdb: {
        ...(hasRating
          ? { rating: faker.number.float({ min: 1, max: 9.8, fractionDigits: 1 }) }
          : {}),
        votes: faker.number.int({ min: 5, max: 1_500_000 }),
        id: 9_000_000 + index,
      },
      type: 'movie',
      revision: 0,
    };
  }
}
