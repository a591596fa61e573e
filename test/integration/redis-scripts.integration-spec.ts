import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { projectRoot } from '../../src/common/paths';
import { COMMANDS_DIR, loadScripts, scriptSource } from '../../src/redis/redis-scripts';
import { testConfig } from '../support/test-env';

const scripts = readdirSync(COMMANDS_DIR).filter((file) => file.endsWith('.lua'));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('Redis scripts', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(testConfig().redisUrl);
  });
  afterAll(() => redis.quit());

  it.each(scripts)('%s compiles on Redis with its includes', async (file) => {
    const sha = await redis.script('LOAD', scriptSource(file));

    expect(sha).toMatch(/^[0-9a-f]{40}$/);
  });

  it.each(scripts)('%s has a header naming its input and output', (file) => {
    const header = readFileSync(join(COMMANDS_DIR, file), 'utf8').split(']]')[0];

    expect(header).toMatch(/^--\[\[/);
    expect(header).toContain('Input:');
    expect(header).toContain('Output:');
    const keys = /-(\d+)\.lua$/.exec(file)?.[1];
    if (keys) expect(header).toContain(`KEYS[${keys}]`);
  });

  it('runs a script the server has lost (SCRIPT FLUSH, a restart), loading it again', async () => {
    const sut = loadScripts(redis);
    const lease = `test:lease:${process.pid}`;
    await redis.set(lease, 'mine');
    await redis.script('FLUSH');

    const released = await sut.releaseLease(lease, 'mine');

    expect(released).toBe(1);
    expect(await redis.exists(lease)).toBe(0);
    expect(
      await redis.script(
        'EXISTS',
        createHash('sha1').update(scriptSource('release-lease-1.lua')).digest('hex'),
      ),
    ).toEqual([1]);
  });

  it('answers bulk replies as Buffers in the Buffer form, as text otherwise', async () => {
    const sut = loadScripts(redis);
    const copy = `test:copy:${process.pid}`;
    await redis.set(copy, Buffer.from([0xff, 0x00, 0x61]));

    const [binary] = await sut.readCopyBuffer(copy, `${copy}:absent`);
    const [absent] = await sut.readCopyBuffer(`${copy}:none`, `${copy}:absent`);

    expect(binary).toEqual(Buffer.from([0xff, 0x00, 0x61]));
    expect(absent).toBe(0);
  });

  it('inlines each include once, however many times it is named', () => {
    const source = scriptSource('end-write-4.lua');

    expect(source.match(/local function fence_parse/g)).toHaveLength(1);
    expect(source).not.toContain('@include');
  });

  it('leaves no Redis script text in TypeScript', () => {
    const withLua = sourceFiles(join(projectRoot(), 'src')).filter((file) =>
      /redis\.call\(/.test(readFileSync(file, 'utf8')),
    );

    expect(withLua).toEqual([]);
  });
});
