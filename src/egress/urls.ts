// The URLs an experiment document names, and which of them the egress policy refuses.
import type { EgressPolicy } from './policy.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every URL an experiment document would fetch, with its JSON pointer. */
export function experimentUrls(doc: unknown): { pointer: string; url: string }[] {
  const out: { pointer: string; url: string }[] = [];
  if (!isObj(doc) || !isObj(doc.spec)) return out;
  const spec = doc.spec;
  const probes = isObj(spec.steadyState) && Array.isArray(spec.steadyState.probes) ? spec.steadyState.probes : [];
  probes.forEach((probe, i) => {
    if (!isObj(probe)) return;
    for (const kind of ['http', 'prometheus'] as const) {
      const p = probe[kind];
      if (isObj(p) && typeof p.url === 'string') out.push({ pointer: `/spec/steadyState/probes/${i}/${kind}/url`, url: p.url });
    }
  });
  const hook = isObj(spec.notify) && isObj(spec.notify.webhook) ? spec.notify.webhook : undefined;
  if (hook && typeof hook.url === 'string') out.push({ pointer: '/spec/notify/webhook/url', url: hook.url });
  return out;
}

/** Problems for every URL of the document the policy refuses. */
export function egressProblems(doc: unknown, policy: EgressPolicy): { pointer: string; message: string }[] {
  return experimentUrls(doc).flatMap(({ pointer, url }) => {
    const reason = policy.checkUrl(url);
    return reason ? [{ pointer, message: `${url} is refused by the egress policy: ${reason}` }] : [];
  });
}
