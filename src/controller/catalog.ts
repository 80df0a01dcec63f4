// The desired state as last reconciled, published to Redis by the reconciling replica so that
// every replica's API and `faultline status` can read it without a Git clone of their own.
import type { Redis } from 'ioredis';
import type { Experiment, LoadResult, Problem } from '../experiments/model.js';

export interface CatalogEntry {
  name: string;
  file: string;
  line: number;
  specHash: string;
  revision: string;
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

const key = (prefix: string) => `${prefix}:catalog`;

export async function publishCatalog(redis: Redis, prefix: string, revision: string, freeze: boolean, load: LoadResult): Promise<void> {
  const snapshot: CatalogSnapshot = {
    revision,
    freeze,
    publishedAt: new Date().toISOString(),
    entries: load.experiments.map((e) => ({
      name: e.experiment.metadata.name,
      file: e.file,
      line: e.line,
      specHash: e.specHash,
      revision,
      durationMs: e.durationMs,
      experiment: e.experiment,
    })),
    problems: load.problems,
  };
  await redis.set(key(prefix), JSON.stringify(snapshot));
}

export async function readCatalog(redis: Redis, prefix: string): Promise<CatalogSnapshot | undefined> {
  const raw = await redis.get(key(prefix));
  return raw ? (JSON.parse(raw) as CatalogSnapshot) : undefined;
}
