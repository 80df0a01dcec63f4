// The run listeners chosen by configuration: git host status + PR comment, Slack, JSON webhook.
import type { Redis } from 'ioredis';
import type { ControllerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { RunListener } from '../runs/types.js';
import { createGitHost, type GitHost } from '../hosts/index.js';
import { RunResultReporter, redisNewestStore } from '../report/run-result.js';
import { SlackNotifier, redisMessageStore } from '../report/slack.js';
import { WebhookNotifier } from '../report/webhook.js';
import { onReportFailure } from '../report/failures.js';
import type { Deliveries } from '../report/queue.js';
import { reportFailures } from '../metrics.js';

let failureHookInstalled = false;

export function gitHostFrom(config: ControllerConfig, log: Logger): GitHost | undefined {
  return config.gitHost ? createGitHost(config.gitHost, { logger: log }) : undefined;
}

/** `deliveries`: where run results wait for their endpoint (the controller passes the durable BullMQ queue). */
export function createReporters(deps: { config: ControllerConfig; redis: Redis; log: Logger; experimentFetch?: typeof fetch; deliveries?: Deliveries }): RunListener[] {
  const { config, redis, log, experimentFetch, deliveries } = deps;
  if (!failureHookInstalled) {
    onReportFailure((target) => reportFailures.inc({ target }));
    failureHookInstalled = true;
  }
  const out: RunListener[] = [];
  const host = gitHostFrom(config, log);
  if (host) out.push(new RunResultReporter({ host, logger: log, deliveries, newest: redisNewestStore(redis, config.redis.prefix) }));
  if (config.slack && (config.slack.botToken || config.slack.webhookUrl)) {
    out.push(
      new SlackNotifier({
        botToken: config.slack.botToken,
        webhookUrl: config.slack.webhookUrl,
        defaultChannel: config.slack.defaultChannel,
        apiUrl: config.slack.apiUrl,
        store: redisMessageStore(redis, config.redis.prefix),
        deliveries,
        logger: log,
      }),
    );
  }
  if (config.webhookNotifier) out.push(new WebhookNotifier({ url: config.webhookNotifier.url, logger: log, experimentFetch, deliveries }));
  else out.push(new WebhookNotifier({ logger: log, experimentFetch, deliveries })); // only experiments' own notify.webhook URLs
  return out;
}

/**
 * At shutdown: give queued notifications (statuses, comments, Slack) up to `timeoutMs` to go
 * out (durable ones not sent by then wait in Redis for the next process). Bounded, so a host that hangs cannot hold the process past its termination grace period.
 */
export async function settleReporters(listeners: RunListener[], timeoutMs: number): Promise<boolean> {
  const idles = listeners.flatMap((l) => ('idle' in l && typeof l.idle === 'function' ? [(l.idle as () => Promise<void>).call(l)] : []));
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    return await Promise.race([Promise.all(idles).then(() => true as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}
