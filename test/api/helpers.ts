// A real controller for the API and dashboard tests: the example experiments from experiments/
// pushed to the test git server (durations shortened), the simulator as the cluster, real Redis
// under a prefix of its own, and an API token. Requests go through HTTP like any client's.
import { readdir, readFile } from 'node:fs/promises';
import type { Controller } from '../../src/controller/index.js';
import type { RunRecord } from '../../src/runs/types.js';
import { startIn, startWorld, waitFor, type World } from '../controller/harness.js';

export { waitFor };
export const TOKEN = 'api-test-token-0123456789';

/** Every example file with each `duration:` set to `short`, except the per-experiment overrides. */
export async function exampleFiles(short: string, overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  const dir = new URL('../../experiments/', import.meta.url);
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort()) {
    const text = await readFile(new URL(name, dir), 'utf8');
    const duration = overrides[name.replace(/\.yaml$/, '')] ?? short;
    const changed = text.replace(/^ {2}duration: .*$/gm, `  duration: ${duration}`);
    if (changed === text) throw new Error(`no duration line in experiments/${name}`);
    out[`experiments/${name}`] = changed;
  }
  return out;
}

export interface ApiWorld {
  world: World;
  controller: Controller;
  url: string;
  close(): Promise<void>;
}

export async function startApiWorld(o: { short?: string; overrides?: Record<string, string>; env?: Record<string, string> } = {}): Promise<ApiWorld> {
  const world = await startWorld({ seed: await exampleFiles(o.short ?? '3s', o.overrides), env: { FAULTLINE_API_TOKEN: TOKEN, ...o.env } });
  let controller: Controller;
  try {
    controller = await startIn(world);
  } catch (err) {
    await world.close();
    throw err;
  }
  return {
    world,
    controller,
    url: controller.url!,
    async close() {
      // A long fault still running would hold close() until it ends: abort (and revert) it first.
      await call(`${controller.url!}/api/abort`, { method: 'POST', body: { reason: 'test teardown' } }).catch(() => undefined);
      await controller.close();
      await world.close();
    },
  };
}

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** One HTTP request; the JSON body parsed when the reply is JSON, the text otherwise. */
export async function call<T = Record<string, unknown>>(
  url: string,
  o: { method?: string; token?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...o.headers };
  const token = o.token === undefined ? TOKEN : o.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = o.rawBody;
  if (o.body !== undefined) body = JSON.stringify(o.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(url, { method: o.method ?? 'GET', headers, body });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as T) : (text as T);
  return { status: res.status, headers: res.headers, body: json };
}

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export function deploymentReplicas(world: World, name: string): number | undefined {
  const d = world.sim.store.get('apps/deployments', 'shop', name) as { spec?: { replicas?: number } } | undefined;
  return d?.spec?.replicas;
}

/** Runs as the API lists them (all pages). */
export async function allRuns(url: string, query = ''): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const q = new URLSearchParams(query);
    q.set('limit', '200');
    if (cursor) q.set('cursor', cursor);
    const { status, body } = await call<{ runs: RunRecord[]; nextCursor?: string }>(`${url}/api/runs?${q}`);
    if (status !== 200) throw new Error(`GET /api/runs: ${status}`);
    out.push(...body.runs);
    if (!body.nextCursor) return out;
    cursor = body.nextCursor;
  }
}
