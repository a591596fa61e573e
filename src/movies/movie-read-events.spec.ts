import { Logger } from '@nestjs/common';
import { apiMovieFactory } from '../../test/factories/api-movie.factory';
import { MovieReadEvents } from './movie-read-events';

describe(MovieReadEvents.name, () => {
  it('tells every listener of each served movie, until it stops listening', () => {
    const sut = new MovieReadEvents();
    const [a, b]: string[][] = [[], []];
    const stopA = sut.listen((movie) => a.push(movie.id));
    sut.listen((movie) => b.push(movie.id));
    const [first, second] = [apiMovieFactory(), apiMovieFactory()];

    sut.served(first);
    stopA();
    sut.served(second);

    expect(a).toEqual([first.id]);
    expect(b).toEqual([first.id, second.id]);
  });

  it('goes on to the other listeners, and does not throw, when one fails', () => {
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const sut = new MovieReadEvents();
      const heard: string[] = [];
      sut.listen(() => {
        throw new Error('listener broke');
      });
      sut.listen((movie) => heard.push(movie.id));
      const movie = apiMovieFactory();

      expect(() => sut.served(movie)).not.toThrow();
      expect(heard).toEqual([movie.id]);
      expect(errors).toHaveBeenCalledWith(expect.stringContaining('listener broke'));
    } finally {
      errors.mockRestore();
    }
  });
});
