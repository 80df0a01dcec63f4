// GET /healthz: the process answers. GET /readyz: the controller's dependencies answer
// (Redis, Git); 503 with the failing checks otherwise, so Kubernetes stops routing to it.
import type { FastifyInstance } from 'fastify';
import type { ReadinessResult, ServerDeps } from './types.js';

export async function healthPlugin(app: FastifyInstance, deps: Pick<ServerDeps, 'readiness'>): Promise<void> {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (req, reply) => {
    let result: ReadinessResult;
    try {
      result = await deps.readiness();
    } catch (err) {
      result = { ok: false, checks: { readiness: (err as Error).message } };
    }
    if (!result.ok) req.log.warn({ checks: result.checks }, 'not ready');
    return reply.code(result.ok ? 200 : 503).send(result);
  });
}

/**
 * Builds a readiness function from named checks (e.g. `redis: () => redis.ping()`,
 * `git: () => source.ping()`): all run at once, each with a time limit.
 */
export function readinessFrom(checks: Record<string, () => Promise<unknown>>, timeoutMs = 3000): () => Promise<ReadinessResult> {
  return async () => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]): Promise<[string, string]> => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
            }),
          ]);
          return [name, 'ok'];
        } catch (err) {
          return [name, (err as Error).message || String(err)];
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const out = Object.fromEntries(entries);
    return { ok: entries.every(([, v]) => v === 'ok'), checks: out };
  };
}
