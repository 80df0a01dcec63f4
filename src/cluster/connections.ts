// client-node 2.0 builds a new undici Agent for every API request that has TLS options (a CA, a
// client certificate, or skip-verify): each request opens its own TCP (and TLS) connection, none
// is reused, and the agents wait for the collector. The controller asks every second (the revert
// loop lists six kinds, the Lease is renewed), so that cost was most of its idle CPU. Here the
// agent is made once per set of options and reused with keep-alive, as kubectl and client-go do.
// The options are read afresh on each request (files re-read by client-node), so a rotated
// certificate gets a new agent; the old one is closed once its requests are done.
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';

type Factory = (cluster: unknown, agentOptions: Record<string, unknown>) => { close?: () => Promise<void> } | undefined;

const KEEP = 4;
const patched = new WeakSet<KubeConfig>();

function keyOf(cluster: unknown, agentOptions: Record<string, unknown>): string {
  const text = JSON.stringify([cluster, agentOptions], (_k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return Buffer.from((v as { data: number[] }).data).toString('base64');
    }
    return v;
  });
  return createHash('sha1').update(text).digest('hex');
}

/** Makes `kc` reuse one dispatcher (connection pool) per cluster and TLS options. Idempotent. */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  if (patched.has(kc)) return kc;
  const target = kc as unknown as { createDispatcher?: Factory };
  const original = target.createDispatcher;
  // Another client-node version without this method: leave it as it is.
  if (typeof original !== 'function') return kc;
  patched.add(kc);
  const made = new Map<string, ReturnType<Factory>>();
  target.createDispatcher = (cluster, agentOptions) => {
    const key = keyOf(cluster, agentOptions);
    if (made.has(key)) {
      const d = made.get(key);
      made.delete(key); // most recently used last
      made.set(key, d);
      return d;
    }
    const d = original.call(kc, cluster, agentOptions);
    made.set(key, d);
    while (made.size > KEEP) {
      const [oldest, old] = made.entries().next().value as [string, ReturnType<Factory>];
      made.delete(oldest);
      void old?.close?.().catch(() => undefined);
    }
    return d;
  };
  return kc;
}
