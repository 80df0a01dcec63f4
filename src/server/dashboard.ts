// Serves the dashboard (static files read once at start-up), /metrics and /queues (bull-board).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { registry } from '../metrics.js';
import { requireToken, type AuthOptions } from './auth.js';

const here = join(dirname(fileURLToPath(import.meta.url)), 'dashboard');
const files: Record<string, { body: string; type: string }> = {
  'index.html': { body: readFileSync(join(here, 'index.html'), 'utf8'), type: 'text/html; charset=utf-8' },
  'app.js': { body: readFileSync(join(here, 'app.js'), 'utf8'), type: 'text/javascript; charset=utf-8' },
  'style.css': { body: readFileSync(join(here, 'style.css'), 'utf8'), type: 'text/css; charset=utf-8' },
  'icon.svg': { body: readFileSync(join(here, 'icon.svg'), 'utf8'), type: 'image/svg+xml' },
};

export interface DashboardOptions extends AuthOptions {
  queues: Queue[];
}

export async function dashboardPlugin(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  const security = {
    'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  const index = files['index.html']!;
  app.get('/', async (_req, reply) => reply.headers(security).type(index.type).send(index.body));
  app.get<{ Params: { file: string } }>('/dashboard/:file', async (req, reply) => {
    const file = files[req.params.file];
    if (!file) return reply.code(404).send({ error: { code: 'not_found', message: 'no such file' } });
    return reply.headers(security).type(file.type).send(file.body);
  });

  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  // bull-board is for looking: read-only, and behind the API token. Jobs come from Git only; a
  // write (add, retry, promote, clean, remove) is refused before bull-board sees it.
  const adapter = new FastifyAdapter();
  adapter.setBasePath('/queues');
  createBullBoard({ queues: opts.queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true, allowRetries: false })), serverAdapter: adapter });
  const guard = requireToken({ ...opts, readRequiresToken: true }, 'read');
  await app.register(
    async (scope) => {
      scope.addHook('onRequest', async (req, reply) => {
        if (req.method === 'GET' || req.method === 'HEAD') return;
        req.log.warn({ method: req.method, url: req.url, result: 'refused' }, 'bull-board write refused');
        await reply.code(405).header('allow', 'GET, HEAD').send({ error: { code: 'read_only', message: 'the queue board is read-only: runs come from Git' } });
      });
      scope.addHook('onRequest', guard);
      await scope.register(adapter.registerPlugin());
    },
    { prefix: '/queues' },
  );
}
