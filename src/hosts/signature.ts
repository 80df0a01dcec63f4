// Webhook authenticity checks shared by the hosts. Every configured secret is tried (rotation:
// old and new are both accepted for a while) and every comparison is constant-time on
// equal-length buffers. Each host's own header format is in its folder (<kind>/signature.ts).
import { createHmac, timingSafeEqual } from 'node:crypto';

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** True when `hex` is the HMAC-SHA256 of `body` under one of `secrets`. */
export function hmacHexMatches(body: Buffer, hex: string | undefined, secrets: readonly string[]): boolean {
  if (!hex || !HEX_SHA256.test(hex)) return false;
  const given = Buffer.from(hex, 'hex');
  let ok = false;
  // No early exit: the time taken does not depend on which secret matched.
  for (const secret of secrets) if (timingSafeEqual(given, createHmac('sha256', secret).update(body).digest())) ok = true;
  return ok;
}
