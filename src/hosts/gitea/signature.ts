// Gitea and Forgejo: X-Gitea-Signature / X-Forgejo-Signature, the bare hex HMAC-SHA256 of the raw body.
import { createHmac } from 'node:crypto';
import { hmacHexMatches } from '../signature.js';

/** True when either signature header matches under one of the secrets. */
export function giteaSignatureValid(body: Buffer, gitea: string | undefined, forgejo: string | undefined, secrets: readonly string[]): boolean {
  return hmacHexMatches(body, gitea, secrets) || hmacHexMatches(body, forgejo, secrets);
}

/** Gitea/Forgejo header value (bare hex), for senders (tests). */
export function signGitea(body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}
