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

/** The client with every script defined on it (ioredis sends EVALSHA, and loads it when missing). */
export type RedisScripts = RedisClient & ScriptCommands;

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

/** Defines every script in COMMANDS_DIR on the client, named in camelCase after its file. */
export function loadScripts(client: RedisClient, dir = COMMANDS_DIR): RedisScripts {
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.lua'))) {
    const [, name, keys] = /^([a-z-]+?)(?:-(\d+))?\.lua$/.exec(file) ?? [];
    if (!name) throw new Error(`${file}: a script is named <name>-<number of keys>.lua`);
    client.defineCommand(camelCase(name), {
      lua: scriptSource(file, dir),
      numberOfKeys: keys === undefined ? undefined : Number(keys),
    });
  }
  return client as RedisScripts;
}
