// POST /webhooks/{github,gitlab,gitea}: verify against the RAW body, de-duplicate by delivery
// id in Redis, normalise, hand to the controller (which only enqueues) and answer 202.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { webhookDeliveries } from '../metrics.js';
import { HOSTS, type HostModule } from '../hosts/index.js';
import type { ServerDeps } from './types.js';
import { repositoryMatcher, type RepositoryRefs } from './repository.js';

// Pull-request actions that can change a plan; the rest are answered and logged as ignored.
const PLAN_ACTIONS = new Set(['opened', 'synchronize', 'reopened']);

export const DELIVERY_TTL_SECONDS = 24 * 60 * 60;
// Hosts give up after ~10 s (GitHub); answer before that so the retry is theirs to make.
const HANDOFF_TIMEOUT_MS = 5000;

class HandoffTimeout extends Error {}

async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new HandoffTimeout(`hand-over took over ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

class UnsupportedMediaType extends Error {}

function parsePayload(body: Buffer, contentType: string | undefined): unknown {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  // GitHub and Gitea can also post `application/x-www-form-urlencoded` with a `payload` field.
  if (type === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(body.toString('utf8')).get('payload');
    if (payload === null) throw new Error('form body without a payload field');
    return JSON.parse(payload);
  }
  // Only a body declared as JSON is read as JSON (a signed text/plain body is not).
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]*\+json$/.test(type)) throw new UnsupportedMediaType(`content type ${type || '(none)'} is not application/json`);
  return JSON.parse(body.toString('utf8'));
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,200}$/;

export async function webhookPlugin(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  const { config, redis, onPush, onPullRequest } = deps;
  const secrets = config.server.webhookSecrets;

  // Raw bytes for every content type: the signature is over the body exactly as sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // One route per registered host: /webhooks/<kind>.
  for (const host of Object.values(deps.hosts ?? HOSTS)) {
    const ours = repositoryMatcher(config, host);
    app.post(`/webhooks/${host.kind}`, async (req, reply) => handle(host, ours, req, reply));
  }

  async function handle(host: HostModule, ours: (e: RepositoryRefs) => boolean, req: FastifyRequest, reply: FastifyReply) {
    const spec = host.webhook;
    const started = process.hrtime.bigint();
    const event = spec.event(req.headers);
    const given = spec.delivery(req.headers);
    const line = (result: string, extra: Record<string, unknown> = {}) => {
      webhookDeliveries.inc({ host: spec.kind, result });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const level = result === 'unauthorized' || result === 'invalid' || result === 'error' ? 'warn' : 'info';
      req.log[level]({ host: spec.kind, event, deliveryId: given, result, ms: Math.round(ms * 100) / 100, ...extra }, 'webhook delivery');
    };
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);

    if (secrets.length === 0) {
      line('unauthorized', { reason: 'no webhook secret configured' });
      return reply.code(401).send({ error: { code: 'unauthorized', message: 'webhooks are disabled: no webhook secret is configured' } });
    }
    if (!spec.verify(body, req.headers, secrets)) {
      line('unauthorized');
      return reply.code(401).send({ error: { code: 'unauthorized', message: 'missing or invalid webhook signature' } });
    }

    let payload: unknown;
    try {
      payload = parsePayload(body, req.headers['content-type']);
    } catch (err) {
      line('invalid', { reason: (err as Error).message });
      if (err instanceof UnsupportedMediaType) return reply.code(415).send({ error: { code: 'unsupported_media_type', message: err.message } });
      return reply.code(400).send({ error: { code: 'bad_request', message: 'body is not valid JSON' } });
    }
    // A delivery without an id (old GitLab) is identified by its content: a byte-identical replay is a duplicate.
    const deliveryId = given && SAFE_ID.test(given) ? given : `sha256-${createHash('sha256').update(body).digest('hex')}`;
    const n = spec.normalise(event, deliveryId, payload);

    if (n.kind === 'ping') {
      line('ping');
      return reply.code(200).send({ ok: true });
    }
    if (n.kind === 'invalid') {
      line('invalid', { reason: n.reason });
      return reply.code(400).send({ error: { code: 'bad_request', message: n.reason } });
    }
    if (n.kind === 'ignored') {
      line('ignored', { reason: n.reason });
      return reply.code(202).send({ ignored: n.reason });
    }
    // Only the tracked repository's events do anything (an org-level hook sends every repository's).
    if (!ours(n.event)) {
      line('ignored', { reason: 'repository', repository: n.event.repository });
      return reply.code(202).send({ ignored: 'repository' });
    }
    if (n.kind === 'push' && n.event.branch !== config.repo.branch) {
      line('ignored', { reason: 'branch', branch: n.event.branch });
      return reply.code(202).send({ ignored: 'branch' });
    }
    if (n.kind === 'push' && n.event.deleted) {
      // The tracked branch is gone: reconciling would read it as "every experiment deleted".
      req.log.warn({ host: spec.kind, deliveryId: given, branch: n.event.branch, repository: n.event.repository }, 'the tracked branch was deleted; not reconciling');
      line('ignored', { reason: 'branch deleted', branch: n.event.branch });
      return reply.code(202).send({ ignored: 'branch deleted' });
    }
    if (n.kind === 'pull_request' && !PLAN_ACTIONS.has(n.event.action)) {
      line('ignored', { reason: 'action', action: n.event.action, pr: n.event.number });
      return reply.code(202).send({ ignored: 'action' });
    }

    const key = `${config.redis.prefix}:webhook:delivery:${spec.kind}:${deliveryId}`;
    let first: string | null;
    try {
      first = await redis.set(key, String(Date.now()), 'EX', DELIVERY_TTL_SECONDS, 'NX');
    } catch (err) {
      line('error', { err: (err as Error).message });
      return reply.code(503).send({ error: { code: 'unavailable', message: 'cannot record the delivery; retry later' } });
    }
    if (first === null) {
      line('duplicate');
      return reply.code(202).send({ duplicate: true, deliveryId });
    }

    try {
      await within(n.kind === 'push' ? onPush(n.event) : onPullRequest(n.event), deps.handoffTimeoutMs ?? HANDOFF_TIMEOUT_MS);
    } catch (err) {
      // Forget the delivery so the host's retry is not taken for a duplicate (job ids collapse a late double).
      await redis.del(key).catch(() => undefined);
      const slow = err instanceof HandoffTimeout;
      line('error', { err: (err as Error).message });
      return reply
        .code(slow ? 503 : 500)
        .send({ error: { code: slow ? 'unavailable' : 'internal', message: 'could not queue the delivery; retry later' } });
    }
    line('accepted', { kind: n.kind });
    return reply.code(202).send({ accepted: true, event: n.kind, deliveryId });
  }
}
