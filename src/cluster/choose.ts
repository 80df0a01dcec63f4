// Reproducible target choice: how many pods a mode asks for, and which ones for a given seed.
import type { TargetMode } from '../experiments/model.js';

/** mulberry32: a small, fast 32-bit PRNG; the same seed always yields the same sequence in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh seed to record in a run, so its choice can be replayed. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x1_0000_0000) >>> 0;
}

/**
 * Pods a mode asks for out of `candidates`: one → 1, all → all, fixed n → min(n, candidates),
 * percent p → ceil(p * candidates / 100), at least 1. Zero candidates → 0.
 */
export function countForMode(mode: TargetMode, candidates: number): number {
  if (candidates <= 0) return 0;
  switch (mode.type) {
    case 'one':
      return 1;
    case 'all':
      return candidates;
    case 'fixed':
      return Math.max(0, Math.min(Math.floor(mode.value), candidates));
    case 'percent':
      // Round away float noise first (e.g. 30 * 10 / 100 = 3.0000000000000004).
      return Math.min(candidates, Math.max(1, Math.ceil(Math.round((mode.value * candidates) / 100 * 1e9) / 1e9)));
  }
}

/**
 * Chooses `count` items with a seeded partial Fisher-Yates shuffle. The caller sorts `items`
 * (pods by name) so the same seed and the same pods give the same choice.
 */
export function chooseSeeded<T>(items: readonly T[], count: number, seed: number): T[] {
  const pool = items.slice();
  const rnd = mulberry32(seed);
  const n = Math.min(count, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rnd() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}
