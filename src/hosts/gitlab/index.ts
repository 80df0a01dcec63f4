// GitLab: webhooks (webhook.ts, signature.ts), the REST v4 API (api.ts) and the responses it
// reads (schema.ts).
import { sameName, type HostModule } from '../types.js';
import { GitLabHost } from './api.js';
import { gitlabWebhook } from './webhook.js';

export const gitlab: HostModule<'gitlab'> = {
  kind: 'gitlab',
  webhook: gitlabWebhook,
  // GitLab keeps a merge request's head under refs/merge-requests/<iid>/head.
  pullRequestRef: (iid) => `refs/merge-requests/${iid}/head`,
  // A project may be configured by its path or by its numeric id.
  isRepository: (configured, refs) => sameName(configured, refs.repository) || (/^\d+$/.test(configured.trim()) && refs.repositoryId === configured.trim()),
  createApi: (config, opts) => new GitLabHost(config, opts),
};
