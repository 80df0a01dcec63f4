// GitLab: the secret itself in X-Gitlab-Token.
import { createHash, timingSafeEqual } from 'node:crypto';

/** GitLab sends the secret itself in `X-Gitlab-Token`; compare fixed-length digests. */
export function gitlabTokenValid(value: string | undefined, secrets: readonly string[]): boolean {
  if (!value) return false;
  const given = createHash('sha256').update(value).digest();
  let ok = false;
  for (const secret of secrets) if (timingSafeEqual(given, createHash('sha256').update(secret).digest())) ok = true;
  return ok;
}
