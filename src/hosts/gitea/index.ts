// Gitea and Forgejo (one API): webhooks (webhook.ts, signature.ts), the REST API (api.ts) and
// the responses it reads (schema.ts).
import { sameName, type HostModule } from '../types.js';
import { GiteaHost } from './api.js';
import { giteaWebhook } from './webhook.js';

export const gitea: HostModule<'gitea'> = {
  kind: 'gitea',
  webhook: giteaWebhook,
  // Gitea keeps GitHub's layout: refs/pull/N/head for every pull request.
  pullRequestRef: (number) => `refs/pull/${number}/head`,
  isRepository: (configured, refs) => sameName(configured, refs.repository),
  createApi: (config, opts) => new GiteaHost(config, opts),
};
