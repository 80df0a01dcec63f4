// Gitea and Forgejo deliveries: Forgejo sends its own X-Forgejo-* headers and (still) the
// X-Gitea-* ones; either is accepted. Signature: bare hex HMAC-SHA256 of the raw body.
import { githubLikePullRequest, header, obj, pushEvent, str, type Normalised, type WebhookSpec } from '../webhook.js';
import { giteaSignatureValid } from './signature.js';

export { signGitea } from './signature.js';

/** X-Gitea-Event / X-Forgejo-Event (`pull_request_sync` arrives as its own type on some versions). */
export function normaliseGitea(eventName: string | undefined, deliveryId: string, payload: unknown): Normalised {
  const p = obj(payload);
  if (!p) return { kind: 'invalid', reason: 'payload is not a JSON object' };
  switch (eventName) {
    case 'push':
      return pushEvent('gitea', deliveryId, p, str(obj(p.repository)?.full_name), obj(p.repository));
    case 'pull_request':
    case 'pull_request_sync': {
      const n = githubLikePullRequest('gitea', deliveryId, p);
      // Gitea says `synchronized` where GitHub says `synchronize`.
      if (n.kind === 'pull_request' && n.event.action === 'synchronized') n.event.action = 'synchronize';
      return n;
    }
    default:
      return { kind: 'ignored', reason: 'event' };
  }
}

export const giteaWebhook: WebhookSpec = {
  kind: 'gitea',
  verify: (body, headers, secrets) => giteaSignatureValid(body, header(headers, 'x-gitea-signature'), header(headers, 'x-forgejo-signature'), secrets),
  event: (headers) => header(headers, 'x-gitea-event') ?? header(headers, 'x-forgejo-event'),
  delivery: (headers) => header(headers, 'x-gitea-delivery') ?? header(headers, 'x-forgejo-delivery'),
  normalise: normaliseGitea,
};
