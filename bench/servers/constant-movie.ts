/** The one movie the comparison servers answer with (the bundled "The Great Train Robbery"). */
export const CONSTANT_MOVIE = {
  id: '573a1390f29313caabcd42e8',
  title: 'The Great Train Robbery',
  year: 1903,
  plot: 'A group of bandits stage a brazen train hold-up, only to find a determined posse hot on their heels.',
  rating: 7.4,
  imdbVotes: 9847,
  genres: ['Short', 'Western'],
  directors: ['Edwin S. Porter'],
  cast: ['A.C. Abadie', "Gilbert M. 'Broncho Billy' Anderson", 'George Barnes', 'Justus D. Barnes'],
  runtimeMinutes: 11,
  revision: 0,
};
