// The desired state as last reconciled, published to Redis by the reconciling replica so that
// every replica's API and `faultline status` can read it without a Git clone of their own.
// Entries live in one hash (name → entry), the revision and problems beside it; a publish
// writes only the entries that changed since the last one (all of them after a Redis flush).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Experiment, LoadResult, LoadedExperiment, Problem } from '../experiments/model.js';

export interface CatalogEntry {
  name: string;
  file: string;
  line: number;
  specHash: string;
  revision: string; // the catalog's revision
  durationMs: number;
  experiment: Experiment;
}

export interface CatalogSnapshot {
  revision: string;
  freeze: boolean;
  publishedAt: string;
  entries: CatalogEntry[];
  problems: Problem[];
}

interface Meta {
  revision: string;
  freeze: boolean;
  publishedAt: string;
  problems: Problem[];
  count: number;
  writer?: string; // the publisher that wrote it
}

const metaKey = (prefix: string) => `${prefix}:catalog`;
const entriesKey = (prefix: string) => `${prefix}:catalog:entries`;
const CHUNK = 1000;

/** Publishes catalogs, remembering what it last wrote so that the next publish is a delta. */
export class CatalogPublisher {
  // name → the loaded experiment last written: the desired state keeps the objects of files
  // that did not change, so a different object means a re-parsed file.
  private published = new Map<string, LoadedExperiment>();
  private readonly token = randomUUID();
  // The last publish went through (an empty catalog, no experiments yet, is intact too).
  private ok = false;
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** The catalog in Redis is the one this publisher last wrote (not flushed or overwritten). */
  async intact(): Promise<boolean> {
    const meta = await this.redis.get(metaKey(this.prefix));
    if (!meta || !this.ok) return false;
    const m = JSON.parse(meta) as Partial<Meta>;
    return m.writer === this.token && m.count === this.published.size;
  }

  /** Writes the changed entries; returns how many entries were written and removed. */
  async publish(revision: string, freeze: boolean, load: LoadResult): Promise<{ written: number; removed: number }> {
    // After a Redis flush (or at start) the hash is not what we remember: write it whole.
    const meta = await this.redis.get(metaKey(this.prefix));
    const known = meta ? (JSON.parse(meta) as Partial<Meta>) : undefined;
    const full = !known || known.writer !== this.token || known.count !== this.published.size;
    const next = new Map<string, LoadedExperiment>();
    const writes: [string, string][] = [];
    for (const e of load.experiments) {
      const name = e.experiment.metadata.name;
      next.set(name, e);
      if (full || this.published.get(name) !== e) writes.push([name, JSON.stringify(entryOf(e))]);
    }
    const removed = full ? [] : [...this.published.keys()].filter((n) => !next.has(n));
    const m: Meta = { revision, freeze, publishedAt: new Date().toISOString(), problems: load.problems, count: next.size, writer: this.token };
    const tx = this.redis.multi();
    if (full) tx.del(entriesKey(this.prefix));
    for (let i = 0; i < writes.length; i += CHUNK) tx.hset(entriesKey(this.prefix), Object.fromEntries(writes.slice(i, i + CHUNK)));
    for (let i = 0; i < removed.length; i += CHUNK) tx.hdel(entriesKey(this.prefix), ...removed.slice(i, i + CHUNK));
    tx.set(metaKey(this.prefix), JSON.stringify(m));
    const results = await tx.exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) {
      this.published = new Map(); // unknown state: the next publish writes everything
      this.ok = false;
      throw failed?.[0] ?? new Error('catalog publish aborted');
    }
    this.published = next;
    this.ok = true;
    return { written: writes.length, removed: removed.length };
  }
}

/** One-shot publish (writes everything). */
export async function publishCatalog(redis: Redis, prefix: string, revision: string, freeze: boolean, load: LoadResult): Promise<void> {
  await new CatalogPublisher(redis, prefix).publish(revision, freeze, load);
}

export async function readCatalog(redis: Redis, prefix: string): Promise<CatalogSnapshot | undefined> {
  const [raw, all] = await Promise.all([redis.get(metaKey(prefix)), redis.hgetall(entriesKey(prefix))]);
  if (!raw) return undefined;
  const meta = JSON.parse(raw) as Meta;
  const entries = Object.values(all).map((v) => ({ ...(JSON.parse(v) as Omit<CatalogEntry, 'revision'>), revision: meta.revision }));
  entries.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  return { revision: meta.revision, freeze: meta.freeze, publishedAt: meta.publishedAt, entries, problems: meta.problems ?? [] };
}

function entryOf(e: LoadedExperiment): Omit<CatalogEntry, 'revision'> {
  return { name: e.experiment.metadata.name, file: e.file, line: e.line, specHash: e.specHash, durationMs: e.durationMs, experiment: e.experiment };
}
