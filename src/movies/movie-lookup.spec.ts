import { InvalidArgumentError } from '../common/errors';
import { parseMovieLookup, parseRating } from './movie-lookup';

describe(parseMovieLookup.name, () => {
  it.each([
    [{ id: '573A1390F29313CAABCD42E8' }, { kind: 'id', id: '573a1390f29313caabcd42e8' }],
    [{ title: 'Heat' }, { kind: 'title', title: 'Heat' }],
    [
      { title: 'Heat', year: 1995 },
      { kind: 'title', title: 'Heat', year: 1995 },
    ],
    [
      { title: 'Amélie 🎬 $where {"$gt": ""}' },
      { kind: 'title', title: 'Amélie 🎬 $where {"$gt": ""}' },
    ],
  ])('accepts %j', (request, expected) => {
    expect(parseMovieLookup(request)).toEqual(expected);
  });

  it.each([
    [{}, 'id'],
    [{ id: '573a1390f29313caabcd42e8', title: 'Heat' }, 'id'],
    [{ id: { $gt: '' } }, 'id'],
    [{ title: ['Heat'] }, 'title'],
    [{ id: '573a1390f29313caabcd42eg' }, 'id'],
    [{ title: 'x'.repeat(257) }, 'title'],
    [{ title: 'line\nbreak' }, 'title'],
    [{ title: 'Heat', year: 1.5 }, 'year'],
    [{ title: 'Heat', year: -1 }, 'year'],
    [{ id: '573a1390f29313caabcd42e8', year: 2000 }, 'year'],
  ])('rejects %j naming %s', (request, field) => {
    expect(() => parseMovieLookup(request)).toThrow(InvalidArgumentError);
    try {
      parseMovieLookup(request);
    } catch (error) {
      expect((error as InvalidArgumentError).field).toBe(field);
    }
  });
});

describe(parseRating.name, () => {
  it.each([0, 5.5, 10])('accepts %d', (rating) => expect(parseRating(rating)).toBe(rating));
  it.each([Number.NaN, Infinity, -Infinity, -0.001, 10.001, '5', undefined])(
    'rejects %p',
    (rating) => {
      expect(() => parseRating(rating)).toThrow(InvalidArgumentError);
    },
  );
});
