// Webhook authenticity checks. Every configured secret is tried (rotation: old and new are
// both accepted for a while) and every comparison is constant-time on equal-length buffers.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

function hmac(secret: string, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

/** True when `hex` is the HMAC-SHA256 of `body` under one of `secrets`. */
export function hmacHexMatches(body: Buffer, hex: string | undefined, secrets: readonly string[]): boolean {
  if (!hex || !HEX_SHA256.test(hex)) return false;
  const given = Buffer.from(hex, 'hex');
  let ok = false;
  // No early exit: the time taken does not depend on which secret matched.
  for (const secret of secrets) if (timingSafeEqual(given, hmac(secret, body))) ok = true;
  return ok;
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex>`. */
export function githubSignatureValid(body: Buffer, header: string | undefined, secrets: readonly string[]): boolean {
  if (!header?.startsWith('sha256=')) return false;
  return hmacHexMatches(body, header.slice(7), secrets);
}

/** GitLab sends the secret itself in `X-Gitlab-Token`; compare fixed-length digests. */
export function gitlabTokenValid(header: string | undefined, secrets: readonly string[]): boolean {
  if (!header) return false;
  const given = createHash('sha256').update(header).digest();
  let ok = false;
  for (const secret of secrets) if (timingSafeEqual(given, createHash('sha256').update(secret).digest())) ok = true;
  return ok;
}

/** `sha256=<hex>` header value for a body, for senders (tests, the bench). */
export function signGithub(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Gitea/Forgejo header value (bare hex). */
export function signGitea(body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}
