import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../common/paths';
import type { RedisClient } from './redis-connection';

/** The Lua scripts, one per file: `<name>-<number of keys>.lua`; `<name>.lua` takes the count first. */
export const COMMANDS_DIR = join(projectRoot(), 'src/redis/commands');

export const REDIS_SCRIPTS = Symbol('REDIS_SCRIPTS');

type Arg = string | number;

/** Each script's signature: its KEYS, then its ARGV (see the header of its .lua file). */
export interface ScriptCommands {
  /** Buffers for bulk replies (ioredis's ...Buffer form): a copy's encoding is binary. */
  readCopyBuffer(movie: string, absent: string): Promise<[Buffer | number]>;
  fillMovieBuffer(
    movie: string,
    fence: string,
    lease: string,
    ...args: Array<Arg | Buffer>
  ): Promise<Array<Buffer | number>>;
  beginWrite(
    movie: string,
    legacy: string,
    fence: string,
    absent: string,
    ...args: Arg[]
  ): Promise<string>;
  endWrite(
    movie: string,
    legacy: string,
    fence: string,
    absent: string,
    ...args: Array<Arg | Buffer>
  ): Promise<number>;
  beginMiss(
    lease: string,
    fence: string,
    absent: string,
    ...args: Arg[]
  ): Promise<[number, string, number, number] | ['absent']>;
  releaseLease(lease: string, token: string): Promise<number>;
  rememberAbsent(absent: string, fence: string, seen: string, ttlSeconds: number): Promise<number>;
  rememberTitle(
    written: string,
    entry: string,
    fence: string,
    lease: string,
    seen: string,
    token: string,
  ): Promise<number>;
  titleWritten(
    fence: string,
    absent: string,
    absentOfYear: string,
    titleEntry: string,
    titleEntryOfYear: string,
    ...args: Arg[]
  ): Promise<number>;
  repairMovieBuffer(
    movie: string,
    legacy: string,
    fence: string,
    absent: string,
    ...args: Array<Arg | Buffer>
  ): Promise<Buffer[]>;
  feedLead(lease: string, instance: string, leaseMs: number): Promise<number>;
  feedSave(lease: string, token: string, instance: string, value: string): Promise<number>;
  registerInstance(
    registry: string,
    writes: string,
    instance: string,
    leaseMs: number,
  ): Promise<Array<number | string>>;
  invalidate(registry: string, writes: string, ...args: Arg[]): Promise<string[]>;
  topMovies(numKeys: number, ...keysAndArgs: Arg[]): Promise<string[]>;
}

/** Every script, each sent as EVALSHA on the client it was loaded for (and as EVAL when missing). */
export type RedisScripts = ScriptCommands;

const INCLUDE = /^--- @include "([\w-]+)"$/gm;

/** A script's text with its includes inlined, each once. */
export function scriptSource(file: string, dir = COMMANDS_DIR): string {
  const included = new Set<string>();
  const inline = (text: string): string =>
    text.replace(INCLUDE, (_line, name: string) => {
      if (included.has(name)) return '';
      included.add(name);
      return inline(readFileSync(join(dir, 'includes', `${name}.lua`), 'utf8'));
    });
  return inline(readFileSync(join(dir, file), 'utf8'));
}

const camelCase = (name: string) => name.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());

type Send = (...args: Array<string | number | Buffer>) => Promise<unknown>;

const isNoScript = (error: unknown) => error instanceof Error && error.message.includes('NOSCRIPT');

/**
 * One script: EVALSHA, and EVAL once a server answers that it lacks it (a restart, a failover, a
 * SCRIPT FLUSH). Built-in commands, not ioredis's defineCommand, because every autopipeline copies
 * each defined script onto itself: under load that costs a hit path that runs no script.
 */
class LuaScript {
  private readonly sha: string;

  constructor(
    private readonly lua: string,
    private readonly numberOfKeys: number | undefined,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  run(
    client: RedisClient,
    binary: boolean,
    args: Array<string | number | Buffer>,
  ): Promise<unknown> {
    // ioredis defines every command's ...Buffer form (its typings omit these two); `call` loses
    // the command's name under autopipelining.
    const commands = client as unknown as Record<`eval${'' | 'sha'}${'' | 'Buffer'}`, Send>;
    const send = (command: 'evalsha' | 'eval', body: string) => {
      const head = this.numberOfKeys === undefined ? [body] : [body, this.numberOfKeys];
      return commands[binary ? (`${command}Buffer` as const) : command](...head, ...args);
    };
    return send('evalsha', this.sha).catch((error: unknown) => {
      if (!isNoScript(error)) throw error;
      return send('eval', this.lua);
    });
  }
}

/**
 * Every script in COMMANDS_DIR, run on `client`, named in camelCase after its file; the name with
 * `Buffer` appended answers bulk replies as Buffers.
 */
export function loadScripts(client: RedisClient, dir = COMMANDS_DIR): RedisScripts {
  const commands: Record<string, (...args: Array<string | number | Buffer>) => Promise<unknown>> =
    {};
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.lua'))) {
    const [, name, keys] = /^([a-z-]+?)(?:-(\d+))?\.lua$/.exec(file) ?? [];
    if (!name) throw new Error(`${file}: a script is named <name>-<number of keys>.lua`);
    const script = new LuaScript(
      scriptSource(file, dir),
      keys === undefined ? undefined : Number(keys),
    );
    commands[camelCase(name)] = (...args) => script.run(client, false, args);
    commands[`${camelCase(name)}Buffer`] = (...args) => script.run(client, true, args);
  }
  return commands as unknown as RedisScripts;
}
