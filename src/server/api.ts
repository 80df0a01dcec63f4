// The REST API (JSON): experiments, runs, abort, kill switch and guarded manual triggers.
import type { FastifyInstance, FastifyError } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { Ajv } from 'ajv';
import type { Redis } from 'ioredis';
import { presentedToken, requireToken, tokenMatches, type AuthOptions } from './auth.js';
import { ConflictError, NotFoundError, type ControlPlane } from './control-plane.js';
import { RUN_STATES } from '../runs/types.js';
import { trendSvg, workflowTimelineSvg } from '../report/svg.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Kill switch and abort routes: a valid token is never rate-limited on them. */
    stopButton?: boolean;
  }
}

export interface ApiOptions extends AuthOptions {
  control: ControlPlane;
  /** Per client address; with redis the count is shared by every replica. Default 600 per minute. */
  rateLimit?: { max: number; windowMs: number; redis?: Redis; prefix?: string };
  /** Largest JSON body the API takes (its bodies are a reason at most); default 16 KiB. */
  bodyLimitBytes?: number;
  streamIntervalMs?: number;
}

const nameParam = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' } },
} as const;
const idParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,200}$' } },
} as const;

export function errorBody(code: string, message: string, field?: string) {
  return { error: field ? { code, message, field } : { code, message } };
}

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

// Fastify's default validator coerces types and drops unknown properties: `{"reason": 42}` would
// turn the kill switch on with reason "42". Bodies are checked as sent; only the URL parts (which
// are always strings) are coerced to the schema's types. Unknown fields are errors everywhere.
const bodyAjv = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false });
const urlAjv = new Ajv({ coerceTypes: true, useDefaults: true, removeAdditional: false, allErrors: false });

/** The field a validation error is about, e.g. `body.reason`, `querystring.limit`, `params.name`. */
function fieldOf(context: string | undefined, e: { instancePath: string; params: Record<string, unknown> } | undefined): string | undefined {
  if (!e) return context;
  const extra = (e.params.missingProperty ?? e.params.additionalProperty) as string | undefined;
  return [context, e.instancePath.replace(/^\//, '').replace(/\//g, '.'), extra].filter(Boolean).join('.');
}

class BadRequestError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export async function apiPlugin(app: FastifyInstance, opts: ApiOptions): Promise<void> {
  const { control } = opts;
  const read = requireToken(opts, 'read');
  const write = requireToken(opts, 'write');
  const who = (req: { ip: string }) => `api:${req.ip}`;

  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : urlAjv).compile(schema));

  // The API's bodies are small JSON: text/plain is refused (415), not parsed.
  app.removeContentTypeParser('text/plain');
  // The stop buttons (kill switch, abort) are never rate-limited away from a caller with the
  // token: an ingress puts every client behind one address, and a flood must not lock them out.
  const authenticated = (req: Parameters<typeof presentedToken>[0]) => {
    const token = opts.apiToken ? presentedToken(req, 'write') : undefined;
    return Boolean(token && opts.apiToken && tokenMatches(token, opts.apiToken));
  };
  const isStopButton = (req: { routeOptions: { config?: { stopButton?: boolean } } }) => req.routeOptions.config?.stopButton === true;
  const stopButton = { stopButton: true };

  const limit = opts.rateLimit ?? { max: 600, windowMs: 60_000 };
  await app.register(rateLimit, {
    // Not per route: the plugin would append its hook after each route's token check, so a
    // request refused with 401 would never be counted and a token-guessing client never slowed.
    global: false,
    max: limit.max,
    timeWindow: limit.windowMs,
    allowList: (req) => isStopButton(req) && authenticated(req),
    ...(limit.redis ? { redis: limit.redis, nameSpace: `${limit.prefix ?? 'faultline'}:ratelimit:` } : {}),
    // Redis down must not lock every caller out (the kill switch least of all): count nothing then.
    skipOnError: true,
    // What the builder returns is thrown into the error handler below: make it a proper error.
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(new Error(`rate limit of ${ctx.max} requests per ${ctx.after} exceeded`), { statusCode: ctx.statusCode, code: 'rate_limited' }),
  });
  // One bucket per client address for the whole API, counted before any route's own hooks (the
  // token check among them): a scope hook runs ahead of route hooks.
  app.addHook('onRequest', app.rateLimit());
  const small = opts.bodyLimitBytes ?? 16 * 1024;

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.validation) {
      return reply.code(400).send(errorBody('bad_request', err.message, fieldOf(err.validationContext, err.validation[0])));
    }
    if (err instanceof NotFoundError) return reply.code(404).send(errorBody('not_found', err.message));
    if (err instanceof ConflictError) return reply.code(409).send(errorBody('conflict', err.message));
    const own: unknown = err;
    if (own instanceof BadRequestError) return reply.code(400).send(errorBody('bad_request', own.message, own.field));
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      app.log.error({ err }, 'api request failed');
      return reply.code(status).send(errorBody('internal', 'internal error'));
    }
    return reply.code(status).send(errorBody(CODES[status] ?? 'error', err.message));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url}`)));

  app.get('/api/experiments', { onRequest: read }, async () => ({ experiments: await control.listExperiments() }));

  app.get<{ Params: { name: string } }>('/api/experiments/:name', { onRequest: read, schema: { params: nameParam } }, async (req) => {
    const found = await control.getExperiment(req.params.name);
    if (!found) throw new NotFoundError(`experiment ${req.params.name} not found`);
    return found;
  });

  app.post<{ Params: { name: string } }>(
    '/api/experiments/:name/trigger',
    { onRequest: write, bodyLimit: small, schema: { params: nameParam } },
    async (req, reply) => {
      const result = await control.trigger(req.params.name, who(req));
      return reply.code(202).send(result);
    },
  );

  // Workflows: runs with their steps, scores and trends; pictures drawn from the same records.
  const workflows = () => {
    if (!control.workflows) throw new NotFoundError('this server has no workflow store');
    return control.workflows;
  };
  const svg = (reply: { type(t: string): { header(k: string, v: string): { send(b: string): unknown } } }, body: string) =>
    reply.type('image/svg+xml; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'").send(body);
  app.get('/api/workflows', { onRequest: read }, async () => ({ workflows: await workflows().list() }));
  app.get<{ Params: { name: string } }>('/api/workflows/:name', { onRequest: read, schema: { params: nameParam } }, async (req) => {
    const found = await workflows().get(req.params.name);
    if (!found) throw new NotFoundError(`workflow ${req.params.name} not found`);
    return found;
  });
  app.get<{ Params: { name: string } }>('/api/workflows/:name/trend.svg', { onRequest: read, schema: { params: nameParam } }, async (req, reply) => {
    const found = await workflows().get(req.params.name);
    if (!found) throw new NotFoundError(`workflow ${req.params.name} not found`);
    return svg(reply, trendSvg(req.params.name, found.trend));
  });
  const runParams = { type: 'object', required: ['name', 'id'], properties: { ...nameParam.properties, ...idParam.properties } } as const;
  app.get<{ Params: { name: string; id: string } }>('/api/workflows/:name/runs/:id', { onRequest: read, schema: { params: runParams } }, async (req) => {
    const run = await workflows().run(req.params.name, req.params.id);
    if (!run) throw new NotFoundError(`run ${req.params.id} of workflow ${req.params.name} not found`);
    return run;
  });
  app.get<{ Params: { name: string; id: string } }>('/api/workflows/:name/runs/:id/timeline.svg', { onRequest: read, schema: { params: runParams } }, async (req, reply) => {
    const run = await workflows().run(req.params.name, req.params.id);
    if (!run) throw new NotFoundError(`run ${req.params.id} of workflow ${req.params.name} not found`);
    return svg(reply, workflowTimelineSvg(run));
  });
  app.get<{ Params: { name: string } }>('/api/experiments/:name/trend', { onRequest: read, schema: { params: nameParam } }, async (req) => ({
    name: req.params.name,
    runs: await workflows().experimentTrend(req.params.name),
  }));
  app.get<{ Params: { name: string } }>('/api/experiments/:name/trend.svg', { onRequest: read, schema: { params: nameParam } }, async (req, reply) =>
    svg(reply, trendSvg(req.params.name, await workflows().experimentTrend(req.params.name))),
  );

  app.get<{ Querystring: { experiment?: string; state?: (typeof RUN_STATES)[number]; limit?: number; cursor?: string } }>(
    '/api/runs',
    {
      onRequest: read,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            experiment: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' },
            state: { type: 'string', enum: [...RUN_STATES] },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,400}$' },
          },
        },
      },
    },
    async (req) => {
      try {
        return await control.runs.list(req.query);
      } catch (err) {
        // The store refuses a cursor it did not hand out; that is the caller's mistake.
        if (req.query.cursor && /cursor/.test((err as Error).message)) throw new BadRequestError('cursor is not one this API returned', 'querystring.cursor');
        throw err;
      }
    },
  );

  app.get<{ Params: { id: string } }>('/api/runs/:id', { onRequest: read, schema: { params: idParam } }, async (req) => {
    const run = await control.runs.get(req.params.id);
    if (!run) throw new NotFoundError(`run ${req.params.id} not found`);
    return run;
  });

  app.post<{ Params: { id: string } }>('/api/runs/:id/abort', { onRequest: write, config: stopButton, bodyLimit: small, schema: { params: idParam } }, async (req, reply) => {
    const run = await control.runs.get(req.params.id);
    if (!run) throw new NotFoundError(`run ${req.params.id} not found`);
    const aborted = await control.abortRun(req.params.id, who(req));
    if (!aborted) throw new ConflictError(`run ${req.params.id} is not active (state ${run.state})`);
    return reply.code(202).send({ aborted: req.params.id });
  });

  app.post<{ Body: { reason: string } }>(
    '/api/abort',
    {
      onRequest: write,
      config: stopButton,
      bodyLimit: small,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['reason'],
          properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
        },
      },
    },
    async (req, reply) => reply.code(202).send(await control.abortAll(who(req), req.body.reason)),
  );

  app.get('/api/kill-switch', { onRequest: read, config: stopButton }, async () => ({ active: await control.killSwitch() }));
  app.delete('/api/kill-switch', { onRequest: write, config: stopButton }, async (req) => {
    await control.clearKillSwitch(who(req));
    return { active: false };
  });

  // Server-sent events: the active faults every interval, for the dashboard's countdowns.
  app.get('/api/stream', { onRequest: read }, async (req, reply) => {
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    let stopped = false;
    const send = async () => {
      if (stopped) return;
      try {
        const [active, killSwitch] = await Promise.all([control.activeRuns(), control.killSwitch()]);
        reply.raw.write(`event: active\ndata: ${JSON.stringify({ at: new Date().toISOString(), killSwitch, active })}\n\n`);
      } catch (err) {
        app.log.warn({ err }, 'stream update failed');
      }
    };
    const timer = setInterval(() => void send(), opts.streamIntervalMs ?? 1000);
    req.raw.on('close', () => {
      stopped = true;
      clearInterval(timer);
    });
    await send();
    return reply;
  });
}
