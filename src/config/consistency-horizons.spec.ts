import { loadConfig } from './app-config';
import { parseHorizons } from './consistency-horizons';

describe(parseHorizons.name, () => {
  it('reads whole seconds, comma-separated, blanks skipped, in ascending order', () => {
    expect(parseHorizons(' 60, 1 ,10,')).toEqual([1, 10, 60]);
  });

  it.each([
    ['', /at least one horizon/],
    ['0', /entry "0"/],
    ['1.5', /entry "1.5"/],
    ['3601', /entry "3601"/],
    ['ten', /entry "ten"/],
    ['1,1', /twice/],
    ['1,2,3,4,5,6', /at most 5/],
  ])('refuses %j', (value, message) => {
    expect(() => parseHorizons(value)).toThrow(message);
  });
});

describe('CONSISTENCY_* at boot', () => {
  it('defaults: 1% of hits, 5 a second at most, checked at 1, 10 and 60 s, healed', () => {
    expect(loadConfig({}).consistency).toEqual({
      sampleRate: 0.01,
      maxPerSecond: 5,
      horizonsSeconds: [1, 10, 60],
      heal: true,
    });
  });

  it('reads each variable', () => {
    const config = loadConfig({
      CONSISTENCY_SAMPLE_RATE: '1',
      CONSISTENCY_MAX_PER_SECOND: '500',
      CONSISTENCY_HORIZONS: '2,5',
      CONSISTENCY_HEAL: 'off',
    });
    expect(config.consistency).toEqual({
      sampleRate: 1,
      maxPerSecond: 500,
      horizonsSeconds: [2, 5],
      heal: false,
    });
  });

  it.each([
    ['CONSISTENCY_SAMPLE_RATE', '1.5'],
    ['CONSISTENCY_SAMPLE_RATE', 'some'],
    ['CONSISTENCY_MAX_PER_SECOND', '0'],
    ['CONSISTENCY_HORIZONS', '1,x'],
    ['CONSISTENCY_HEAL', 'yes'],
  ])('fails boot on a bad %s, naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name} `));
  });
});
