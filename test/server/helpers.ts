import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/index.js';
import type { ControllerConfig } from '../../src/config/index.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const here = dirname(fileURLToPath(import.meta.url));

/** A config as the controller would load it, from the environment only. */
export function testConfig(env: Record<string, string>): ControllerConfig {
  return loadConfig({
    env: {
      FAULTLINE_REPO_URL: 'https://git.example.com/chaos/experiments.git',
      REDIS_URL,
      FAULTLINE_REDIS_PREFIX: `fltest-${randomUUID()}`,
      ...env,
    },
  });
}

export function fixture(name: string): Buffer {
  return readFileSync(join(here, 'fixtures', name));
}

interface WebhookDefinition {
  name: string;
  examples: Record<string, unknown>[];
}
const require = createRequire(import.meta.url);
const definitions = require('@octokit/webhooks-examples') as WebhookDefinition[];

/** Real GitHub example payloads (from @octokit/webhooks-examples) matching a predicate. */
export function githubExample(name: string, pick: (e: Record<string, unknown>) => boolean = () => true): Record<string, unknown> {
  const def = definitions.find((d) => d.name === name);
  const example = def?.examples.find(pick);
  if (!example) throw new Error(`no @octokit/webhooks-examples example for ${name}`);
  return example;
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

export function newRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
}
