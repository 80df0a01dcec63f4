// GitHub deliveries: X-Hub-Signature-256 (HMAC-SHA256 of the raw body), X-GitHub-Event and
// X-GitHub-Delivery; push and pull_request payloads.
import { githubLikePullRequest, header, obj, pushEvent, str, type Normalised, type WebhookSpec } from '../webhook.js';
import { githubSignatureValid } from './signature.js';

export { githubSignatureValid, signGithub } from './signature.js';

export function normaliseGithub(eventName: string | undefined, deliveryId: string, payload: unknown): Normalised {
  const p = obj(payload);
  if (!p) return { kind: 'invalid', reason: 'payload is not a JSON object' };
  switch (eventName) {
    case 'ping':
      return { kind: 'ping' };
    case 'push':
      return pushEvent('github', deliveryId, p, str(obj(p.repository)?.full_name), obj(p.repository));
    case 'pull_request':
      return githubLikePullRequest('github', deliveryId, p);
    default:
      return { kind: 'ignored', reason: 'event' };
  }
}

export const githubWebhook: WebhookSpec = {
  kind: 'github',
  verify: (body, headers, secrets) => githubSignatureValid(body, header(headers, 'x-hub-signature-256'), secrets),
  event: (headers) => header(headers, 'x-github-event'),
  delivery: (headers) => header(headers, 'x-github-delivery'),
  normalise: normaliseGithub,
};
