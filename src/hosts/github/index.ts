// GitHub: webhooks (webhook.ts, signature.ts), the API through Octokit (api.ts, checks.ts) and
// the responses it reads (schema.ts).
import { sameName, type HostModule } from '../types.js';
import { GitHubHost } from './api.js';
import { githubWebhook } from './webhook.js';

export const github: HostModule<'github'> = {
  kind: 'github',
  webhook: githubWebhook,
  // GitHub publishes the head of every pull request, forks included, under refs/pull/N/head.
  pullRequestRef: (number) => `refs/pull/${number}/head`,
  isRepository: (configured, refs) => sameName(configured, refs.repository),
  createApi: (config, opts) => new GitHubHost(config, opts),
};
