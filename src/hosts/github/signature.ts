// GitHub: X-Hub-Signature-256 is `sha256=` and the HMAC-SHA256 of the raw body, in hex.
import { createHmac } from 'node:crypto';
import { hmacHexMatches } from '../signature.js';

/** GitHub: `X-Hub-Signature-256: sha256=<hex>`. */
export function githubSignatureValid(body: Buffer, value: string | undefined, secrets: readonly string[]): boolean {
  if (!value?.startsWith('sha256=')) return false;
  return hmacHexMatches(body, value.slice(7), secrets);
}

/** `sha256=<hex>` header value for a body, for senders (tests, the bench). */
export function signGithub(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
