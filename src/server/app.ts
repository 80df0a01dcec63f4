// The controller's HTTP server. Webhooks and health live here; the API, dashboard and
// /metrics are plugins passed in `deps.plugins`, each in its own encapsulated scope.
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { healthPlugin } from './health.js';
import { webhookPlugin } from './webhooks.js';
import type { ServerDeps } from './types.js';

export function buildServer(deps: ServerDeps): FastifyInstance {
  const { server } = deps.config;
  const app = Fastify({
    loggerInstance: deps.log,
    bodyLimit: server.bodyLimitBytes,
    // A client that trickles its headers or body is cut off: the whole request must arrive within
    // requestTimeout, the headers within headersTimeout, and an idle socket closes after
    // connectionTimeout. Node checks these every connectionsCheckingInterval, so keep it short.
    requestTimeout: server.requestTimeoutMs,
    connectionTimeout: server.connectionTimeoutMs,
    keepAliveTimeout: Math.min(5000, server.connectionTimeoutMs),
    http: { headersTimeout: Math.min(server.headersTimeoutMs, server.requestTimeoutMs), connectionsCheckingInterval: Math.max(100, Math.min(1000, server.requestTimeoutMs / 4)) },
    // One line per webhook delivery is logged by the handler; per-request lines would double it.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  }) as unknown as FastifyInstance; // the pino Logger type is wider than FastifyBaseLogger; same object

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status >= 500 ? 'internal' : 'bad_request';
    if (status === 413) req.log.warn({ url: req.url, limit: deps.config.server.bodyLimitBytes, result: 'too_large' }, 'body over the limit');
    return reply.code(status).send({ error: { code, message: status >= 500 ? 'internal error' : err.message } });
  });

  void app.register(async (scope) => webhookPlugin(scope, deps));
  void app.register(async (scope) => healthPlugin(scope, deps));
  for (const plugin of deps.plugins ?? []) void app.register(async (scope) => plugin(scope));
  return app;
}
