// Pod Security admission as a real kube-apiserver applies it from the namespace label
// pod-security.kubernetes.io/enforce: on pod create and on the ephemeralcontainers subresource,
// the whole pod (containers, init and ephemeral containers) is checked against the level; a
// violation is 403 Forbidden with the same wording. A subset of the checks: the ones pods and
// Faultline injectors can trip (host namespaces, privileged, capabilities, privilege escalation,
// non-root, seccomp, hostPath, hostPort). Pods the simulator's own controllers create are not
// checked (the real ReplicaSet controller would be refused instead).
import { forbidden } from './errors.js';
import type { KObject } from './types.js';

const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const LEVELS = ['privileged', 'baseline', 'restricted'] as const;
type Level = (typeof LEVELS)[number];

interface SecurityContext {
  privileged?: boolean; allowPrivilegeEscalation?: boolean; runAsNonRoot?: boolean; runAsUser?: number;
  capabilities?: { add?: string[]; drop?: string[] }; seccompProfile?: { type?: string };
}
interface Container { name: string; securityContext?: SecurityContext; ports?: { hostPort?: number }[] }
interface PodSpec {
  hostNetwork?: boolean; hostPID?: boolean; hostIPC?: boolean; securityContext?: SecurityContext;
  containers?: Container[]; initContainers?: Container[]; ephemeralContainers?: Container[]; volumes?: { name: string; hostPath?: unknown }[];
}

const quoted = (names: string[]) => names.map((n) => `"${n}"`).join(', ');
const plural = (names: string[], one: string, many: string) => (names.length === 1 ? one : many);

function violations(spec: PodSpec, level: Level): string[] {
  const out: string[] = [];
  const all = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
  const host = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((k) => spec[k]);
  if (host.length) out.push(`host namespaces (${host.map((k) => `${k}=true`).join(', ')})`);
  const priv = all.filter((c) => c.securityContext?.privileged).map((c) => c.name);
  if (priv.length) out.push(`privileged (${plural(priv, 'container', 'containers')} ${quoted(priv)} must not set securityContext.privileged=true)`);
  for (const c of all) {
    const extra = (c.securityContext?.capabilities?.add ?? []).filter((cap) => !BASELINE_CAPS.has(cap.replace(/^CAP_/, '')));
    if (extra.length) out.push(`non-default capabilities (container "${c.name}" must not include ${quoted(extra)} in securityContext.capabilities.add)`);
  }
  const hostPath = (spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name);
  if (hostPath.length) out.push(`hostPath volumes (${plural(hostPath, 'volume', 'volumes')} ${quoted(hostPath)})`);
  const hostPorts = all.filter((c) => c.ports?.some((p) => p.hostPort)).map((c) => c.name);
  if (hostPorts.length) out.push(`hostPort (${plural(hostPorts, 'container', 'containers')} ${quoted(hostPorts)} uses hostPort)`);
  if (level !== 'restricted') return out;

  const ape = all.filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
  if (ape.length) out.push(`allowPrivilegeEscalation != false (${plural(ape, 'container', 'containers')} ${quoted(ape)} must set securityContext.allowPrivilegeEscalation=false)`);
  const nodrop = all.filter((c) => !(c.securityContext?.capabilities?.drop ?? []).includes('ALL')).map((c) => c.name);
  if (nodrop.length) out.push(`unrestricted capabilities (${plural(nodrop, 'container', 'containers')} ${quoted(nodrop)} must set securityContext.capabilities.drop=["ALL"])`);
  for (const c of all) {
    const extra = (c.securityContext?.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE' && BASELINE_CAPS.has(cap));
    if (extra.length) out.push(`unrestricted capabilities (container "${c.name}" must not include ${quoted(extra)} in securityContext.capabilities.add)`);
  }
  const podNonRoot = spec.securityContext?.runAsNonRoot === true;
  const root = all.filter((c) => c.securityContext?.runAsNonRoot === false || (!podNonRoot && c.securityContext?.runAsNonRoot !== true)).map((c) => c.name);
  if (root.length) out.push(`runAsNonRoot != true (pod or ${plural(root, 'container', 'containers')} ${quoted(root)} must set securityContext.runAsNonRoot=true)`);
  const uid0 = all.filter((c) => (c.securityContext?.runAsUser ?? spec.securityContext?.runAsUser) === 0).map((c) => c.name);
  if (uid0.length) out.push(`runAsUser=0 (${plural(uid0, 'container', 'containers')} ${quoted(uid0)} must not set runAsUser=0)`);
  const okSeccomp = (s?: SecurityContext) => s?.seccompProfile?.type === 'RuntimeDefault' || s?.seccompProfile?.type === 'Localhost';
  const noSeccomp = all.filter((c) => !okSeccomp(c.securityContext) && !okSeccomp(spec.securityContext)).map((c) => c.name);
  if (noSeccomp.length) out.push(`seccompProfile (pod or ${plural(noSeccomp, 'container', 'containers')} ${quoted(noSeccomp)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`);
  return out;
}

/** Throws 403 when the namespace's enforce level refuses the pod. */
export function admitPod(pod: KObject, namespace: KObject | undefined): void {
  const raw = namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce'];
  const level = (LEVELS as readonly string[]).includes(raw ?? '') ? (raw as Level) : 'privileged';
  if (level === 'privileged') return;
  const v = violations((pod.spec ?? {}) as PodSpec, level);
  if (!v.length) return;
  const version = namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce-version'] ?? 'latest';
  throw forbidden(`pods "${pod.metadata.name}" is forbidden: violates PodSecurity "${level}:${version}": ${v.join(', ')}`, { name: pod.metadata.name, kind: 'pods' });
}
