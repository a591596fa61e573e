import { loadConfig } from '../config/app-config';
import { mongooseOptions } from './mongo-connection';

describe(mongooseOptions.name, () => {
  it('writes to a majority, retries writes once, reads the primary at majority read concern', () => {
    const sut = mongooseOptions(loadConfig({}));

    expect(sut).toMatchObject({
      retryWrites: true,
      writeConcern: { w: 'majority' },
      readPreference: 'primary',
      readConcern: { level: 'majority' },
    });
  });
});
