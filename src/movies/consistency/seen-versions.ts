import { LRUCache } from 'lru-cache';

/** What MongoDB holds for a lookup: the movie (the title's owner) and its revision, or nothing. */
export type MongoVersion = { id: string; revision: number } | null;

const versionKey = (version: MongoVersion) =>
  version ? `${version.id}@${version.revision}` : 'gone';

/**
 * When this process first read each lookup's current version from MongoDB (performance.now(),
 * when the read returned). A read returns only a committed write, so the version was committed
 * by then: the proof, on this process's own clock, that an answer given later was already old.
 */
export class SeenVersions {
  private readonly seen: LRUCache<string, { version: string; at: number }>;

  constructor(max: number) {
    this.seen = new LRUCache({ max });
  }

  /** `version` was read for `key` at `at`; returns when it was first read (at, or earlier). */
  note(key: string, version: MongoVersion, at: number): number {
    const name = versionKey(version);
    const known = this.seen.get(key);
    if (known?.version === name) return known.at;
    this.seen.set(key, { version: name, at });
    return at;
  }
}
