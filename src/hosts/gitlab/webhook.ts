// GitLab deliveries: the secret itself in X-Gitlab-Token, X-Gitlab-Event and
// X-Gitlab-Event-UUID (older: X-Gitlab-Webhook-UUID); Push Hook and Merge Request Hook payloads.
import { header, obj, pushEvent, repositoryRefs, str, type Normalised, type WebhookSpec } from '../webhook.js';
import { gitlabTokenValid } from './signature.js';

export { gitlabTokenValid } from './signature.js';

const GITLAB_ACTIONS: Record<string, string> = { open: 'opened', reopen: 'reopened', close: 'closed', merge: 'closed' };

export function normaliseGitlab(eventName: string | undefined, deliveryId: string, payload: unknown): Normalised {
  const p = obj(payload);
  if (!p) return { kind: 'invalid', reason: 'payload is not a JSON object' };
  const repository = str(obj(p.project)?.path_with_namespace);
  if (eventName === 'Push Hook') {
    if (p.object_kind !== 'push') return { kind: 'invalid', reason: 'Push Hook without object_kind push' };
    return pushEvent('gitlab', deliveryId, p, repository, obj(p.project));
  }
  if (eventName === 'Merge Request Hook') {
    const a = obj(p.object_attributes);
    const iid = a?.iid;
    const headSha = str(obj(a?.last_commit)?.id);
    const headRef = str(a?.source_branch);
    const baseRef = str(a?.target_branch);
    const raw = str(a?.action);
    if (!a || typeof iid !== 'number' || !headSha || !headRef || !baseRef || !repository || !raw) {
      return { kind: 'invalid', reason: 'merge request payload without iid, action, last_commit, branches or project' };
    }
    // `update` with oldrev means new commits; without it only the title/labels changed.
    const action = raw === 'update' ? (str(a.oldrev) ? 'synchronize' : 'edited') : (GITLAB_ACTIONS[raw] ?? raw);
    const merged = raw === 'merge' || a.state === 'merged';
    const mergeCommitSha = str(a.merge_commit_sha);
    return {
      kind: 'pull_request',
      event: {
        host: 'gitlab',
        deliveryId,
        action,
        number: iid,
        headSha,
        headRef,
        baseRef,
        merged,
        repository,
        ...repositoryRefs(obj(p.project)),
        url: str(a.url) ?? '',
        ...(merged && mergeCommitSha ? { mergeCommitSha } : {}),
      },
    };
  }
  return { kind: 'ignored', reason: 'event' };
}

export const gitlabWebhook: WebhookSpec = {
  kind: 'gitlab',
  verify: (_body, headers, secrets) => gitlabTokenValid(header(headers, 'x-gitlab-token'), secrets),
  event: (headers) => header(headers, 'x-gitlab-event'),
  delivery: (headers) => header(headers, 'x-gitlab-event-uuid') ?? header(headers, 'x-gitlab-webhook-uuid'),
  normalise: normaliseGitlab,
};
