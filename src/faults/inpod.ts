// In-pod faults run in an ephemeral container (the injector) added to each target pod: it shares
// the pod's network namespace and cgroup, brings its own tools (deploy/agent) and arms its own
// expiry. The shell protocol is in inpod-scripts.ts; each fault's script is in its driver.
//
// Privileges: the kernel honours added capabilities only for root when no_new_privs is set
// (allowPrivilegeEscalation: false makes file capabilities useless), so faults that need a
// capability run as uid 0 with drop ALL + exactly that capability; the others run as the image's
// non-root user. What each fault needs is declared by each fault's definition (`injector`).
//
// Handshake: `confirm` waits until every target's injector says "applied" (read by exec) or has
// failed (terminated, with the tool's own error as termination message), within the start timeout.
// Revert ends running injectors through exec, waits out ones that have not started (they refuse to
// apply after NOT_AFTER), and starts a cleanup container where an injector died without cleaning up.
import type { V1ContainerStatus, V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import type { InjectorNeeds } from './definition.js';
import { FAULT_CATALOG } from './registry.js';
import type { FaultType } from '../experiments/model.js';
import type { TargetRef } from '../runs/types.js';
import { ABORT_COMMAND, READ_RESULT_COMMAND, RESULT_FILE } from './inpod-scripts.js';
import { errorText, execIn } from './exec.js';
import { apis, clearedMarks, faultMarks, isNotFound, RUN_ANNOTATION, shortRunId, strategicPatch } from './k8s.js';
import { durationSeconds, SAFE_ARG_RE } from './params.js';
import { perTarget } from './per-target.js';
import type { ConfirmOptions, FaultContext, FaultDriver, Injection, TargetOutcome } from './types.js';

export * from './inpod-scripts.js';
export const SCRIPT_ARGV0 = 'faultline';
export const DEFAULT_START_TIMEOUT_MS = 120_000;
const POLL_MS = 500;
const CLEANUP_WAIT_MS = 60_000;

/** The argv of an injected container: a constant script and validated positional arguments. */
export function scriptCommand(script: string, args: string[]): string[] {
  for (const a of args) {
    if (!SAFE_ARG_RE.test(a)) throw new Error(`refusing to build a command with argument ${JSON.stringify(a).slice(0, 60)}`);
  }
  return ['/bin/sh', '-c', script, SCRIPT_ARGV0, ...args];
}

export interface InPodSpec {
  script: string;
  /** The fault's own validated arguments (after MODE, NOT_AFTER, DURATION); throws on bad params. */
  args(ctx: Pick<FaultContext, 'params' | 'durationMs' | 'runId'>): string[];
  /** Where (main) container the injector joins; default the pod's first container. */
  targetContainer?(ctx: Pick<FaultContext, 'params'>, containers: string[]): string;
  /** Leftovers a killed injector can leave behind that a cleanup container removes (tc, iptables). */
  cleanable: boolean;
  /** Refuse hostNetwork pods (network and stress faults) unless the controller allows them. */
  refuseHostNetwork: boolean;
  /**
   * Facts read from the cluster at inject time that become trailing arguments (partition peers'
   * pod IPs). They go into the revert data, so the ledger holds exactly what was applied and a
   * cleanup container gets the same arguments; `note` goes into the run's timeline.
   */
  resolve?(ctx: FaultContext): Promise<{ args: string[]; record: Record<string, unknown>; note: string } | undefined>;
  /** After the injector confirmed: is the effect visible on the pod? 'ok', 'pending: why', or an error. */
  verify?(pod: V1Pod, data: InPodRevertData): string;
}

export interface InPodRevertData extends Record<string, unknown> {
  container: string;
  /** Arguments after MODE: NOT_AFTER, DURATION and the fault's own. */
  args: string[];
  pods: { namespace: string; name: string; uid: string; target: string; restarts?: number }[];
  /** What `resolve` read at inject time (partition peers and their IPs). */
  resolved?: Record<string, unknown>;
}

export function ephemeralContainerName(runId: string): string {
  return `faultline-${shortRunId(runId)}`;
}
const cleanupName = (container: string) => `${container}-clean`;

export function injectorNeeds(type: FaultType): InjectorNeeds {
  const needs = FAULT_CATALOG[type].injector;
  if (!needs) throw new Error(`${type} is not an in-pod fault`);
  return needs;
}

/** The ephemeral container spec for a fault (exported for tests and the Linux harness). */
export function ephemeralContainer(opts: { name: string; image: string; targetContainer: string; command: string[]; needs: InjectorNeeds }): V1EphemeralContainer {
  const uid = opts.needs.runAsUser;
  return {
    name: opts.name,
    image: opts.image,
    command: opts.command,
    targetContainerName: opts.targetContainer,
    imagePullPolicy: 'IfNotPresent',
    workingDir: '/tmp', // stress-ng needs a writable working directory
    env: [{ name: 'XTABLES_LOCKFILE', value: '/tmp/xtables.lock' }], // legacy iptables' lock, writable
    terminationMessagePath: RESULT_FILE,
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: {
      runAsUser: uid,
      runAsGroup: uid,
      runAsNonRoot: uid !== 0,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: [...opts.needs.capabilities] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

const podKey = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;
const firstLine = (s: string | undefined) => (s ?? '').split('\n').find((l) => l.trim())?.trim() ?? '';

/** What an injector's status says, as one phrase. */
function describeStatus(st: V1ContainerStatus | undefined): string {
  if (!st) return 'not created yet';
  const s = st.state;
  if (s?.waiting) return `waiting (${[s.waiting.reason, s.waiting.message].filter(Boolean).join(': ') || 'no reason'})`;
  if (s?.running) return 'running';
  if (s?.terminated) return `exited ${s.terminated.exitCode}${s.terminated.reason ? ` (${s.terminated.reason})` : ''}: ${firstLine(s.terminated.message) || 'no message'}`;
  return 'unknown state';
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
});

export function inPodDriver(type: FaultType, spec: InPodSpec): FaultDriver {
  const needs = injectorNeeds(type);
  // Over once applied (the injector exits 0 with "applied") rather than held for the duration.
  const instant = FAULT_CATALOG[type].instant !== undefined;
  const command = (mode: 'apply' | 'clean', data: InPodRevertData) => scriptCommand(spec.script, [mode, ...data.args]);

  type Target = InPodRevertData['pods'][number];
  const dataOf = (injection: Injection) => injection.revertData as InPodRevertData;

  return perTarget<Target>({
    type,
    targets: (injection) => dataOf(injection).pods,
    describe: podKey,
    async prepare(ctx) {
      const own = spec.args(ctx); // validate before anything is recorded
      const startTimeoutMs = ctx.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
      const notAfter = String(Math.floor((Date.now() + startTimeoutMs) / 1000));
      const resolved = spec.resolve ? await spec.resolve(ctx) : undefined;
      const args = [notAfter, durationSeconds(ctx.durationMs), ...own, ...(resolved?.args ?? [])];
      scriptCommand(spec.script, ['apply', ...args]);
      const pods: InPodRevertData['pods'] = ctx.targets.pods.map((t) => {
        const target = spec.targetContainer ? spec.targetContainer(ctx, t.containers) : t.containers[0];
        if (!target) throw new Error(`pod ${podKey(t)} has no containers`);
        return { namespace: t.namespace, name: t.name, uid: t.uid, target };
      });
      const touched: TargetRef[] = ctx.targets.pods.map((p) => ({
        kind: 'Pod', namespace: p.namespace, name: p.name, ...(p.owner ? { owner: `${p.owner.kind}/${p.owner.name}` } : {}),
      }));
      const revertData: InPodRevertData = { container: ephemeralContainerName(ctx.runId), args, pods, ...(resolved ? { resolved: resolved.record } : {}) };
      return {
        runId: ctx.runId, experiment: ctx.experiment, fault: type, touched, revertData, ...(resolved ? { note: resolved.note } : {}),
        expiresAt: new Date(instant ? Date.now() : Number(notAfter) * 1000 + ctx.durationMs + 60_000).toISOString(),
      };
    },

    // Every pod is read first: one refused pod refuses the run before any pod is touched.
    async check(ctx, _injection, p) {
      const pod = await apis(ctx.kc).core.readNamespacedPod({ namespace: p.namespace, name: p.name });
      if (pod.metadata?.uid !== p.uid) throw new Error(`pod ${podKey(p)} was replaced before injection`);
      if (spec.refuseHostNetwork && pod.spec?.hostNetwork && !ctx.allowHostNetwork) {
        throw new Error(`pod ${podKey(p)} uses hostNetwork: ${type} would act on the node itself; refused (controller config injector.allowHostNetwork)`);
      }
      const restarts = pod.status?.containerStatuses?.find((c) => c.name === p.target)?.restartCount;
      if (restarts !== undefined) p.restarts = restarts; // container-kill compares against it
    },

    async apply(ctx, injection, p) {
      const { core } = apis(ctx.kc);
      const data = dataOf(injection);
      const container = ephemeralContainer({ name: data.container, image: ctx.injectorImage, targetContainer: p.target, command: command('apply', data), needs });
      // The pod carries the run label and the whole revert data before the injector exists, so a
      // controller that lost Redis finds and ends it (runs/cluster-faults.ts); unmarked, no injection.
      await core.patchNamespacedPod(
        { namespace: p.namespace, name: p.name, body: { metadata: faultMarks(injection) } },
        strategicPatch(),
      ).catch((err: unknown) => { throw new Error(`marking pod ${podKey(p)} with the run's revert data: ${errorText(err)}`); });
      await core.patchNamespacedPodEphemeralcontainers(
        { namespace: p.namespace, name: p.name, body: { spec: { ephemeralContainers: [container] } } },
        strategicPatch(),
      ).catch((err: unknown) => { throw new Error(`adding the injector to pod ${podKey(p)}: ${errorText(err)}`); });
      ctx.log.info({ pod: podKey(p), container: container.name, fault: type }, 'injector added');
    },

    async confirm(ctx, injection, opts: ConfirmOptions): Promise<TargetOutcome[]> {
      const { core } = apis(ctx.kc);
      const data = injection.revertData as InPodRevertData;
      const deadline = Date.now() + opts.timeoutMs;
      const done = new Map<string, TargetOutcome>();
      const last = new Map<string, string>();
      for (;;) {
        for (const p of data.pods) {
          const key = podKey(p);
          if (done.has(key)) continue;
          const settle = (ok: boolean, message: string) => done.set(key, { target: key, ok, message });
          let pod: V1Pod;
          try {
            pod = await core.readNamespacedPod({ namespace: p.namespace, name: p.name });
          } catch (err) {
            if (isNotFound(err)) settle(false, 'the pod is gone');
            else last.set(key, `reading the pod: ${errorText(err)}`);
            continue;
          }
          if (pod.metadata?.uid !== p.uid) { settle(false, 'the pod was replaced'); continue; }
          const st = pod.status?.ephemeralContainerStatuses?.find((c) => c.name === data.container);
          const term = st?.state?.terminated;
          let result: string | undefined;
          if (term) {
            result = firstLine(term.message);
            if (!(instant && term.exitCode === 0 && result === 'applied')) {
              settle(false, result.startsWith('failed') ? `injector ${result}` : `injector ${describeStatus(st)}`);
              continue;
            }
          } else if (st?.state?.running) {
            const r = await execIn(ctx.kc, p.namespace, p.name, data.container, [...READ_RESULT_COMMAND]).catch((err: unknown) => ({ ok: false, stdout: '', stderr: errorText(err), status: {} }));
            result = r.ok ? firstLine(r.stdout) : undefined;
            if (!r.ok) last.set(key, `running; reading its result: ${r.stderr || 'exec failed'}`);
            if (result?.startsWith('failed')) { settle(false, `injector ${result}`); continue; }
          } else {
            last.set(key, `injector ${describeStatus(st)}`);
          }
          if (result === 'applied') {
            const v = spec.verify ? spec.verify(pod, data) : 'ok';
            if (v === 'ok') settle(true, 'applied');
            else if (!v.startsWith('pending')) settle(false, v);
            else last.set(key, v.replace(/^pending:?\s*/, '') || 'applied; waiting for its effect on the pod');
          } else if (result) {
            last.set(key, `injector says ${result}`);
          }
        }
        if (done.size === data.pods.length || opts.signal?.aborted) break;
        if (Date.now() >= deadline) break;
        await sleep(POLL_MS, opts.signal);
      }
      const secs = Math.round(opts.timeoutMs / 1000);
      return data.pods.map((p) => done.get(podKey(p)) ?? {
        target: podKey(p), ok: false,
        message: opts.signal?.aborted ? `not confirmed before the run stopped (${last.get(podKey(p)) ?? 'no status yet'})` : `not confirmed within ${secs}s: ${last.get(podKey(p)) ?? 'no status yet'}`,
      });
    },

    async recover(kc, injection, p, log) {
      const data = dataOf(injection);
      const { core } = apis(kc);
      const notAfterMs = Number(data.args[0]) * 1000;
      const read = async (): Promise<V1Pod | undefined> => {
        try {
          const pod = await core.readNamespacedPod({ namespace: p.namespace, name: p.name });
          return pod.metadata?.uid === p.uid ? pod : undefined;
        } catch (err) {
          if (isNotFound(err)) return undefined; // the pod is gone, and its fault with it
          throw err;
        }
      };
      const statusOf = (pod: V1Pod, name: string) => pod.status?.ephemeralContainerStatuses?.find((c) => c.name === name);
      let pod = await read();
      if (!pod) return;
      const added = pod.spec?.ephemeralContainers?.some((c) => c.name === data.container);
      if (added && !instant) {
        // Not started yet: wait until it runs (then end it) or its start deadline has passed.
        while (pod && !statusOf(pod, data.container)?.state?.running && !statusOf(pod, data.container)?.state?.terminated && Date.now() < notAfterMs + 5_000) {
          await sleep(POLL_MS);
          pod = await read();
        }
        if (!pod) return;
        const st = statusOf(pod, data.container);
        if (st?.state?.running) {
          const r = await execIn(kc, p.namespace, p.name, data.container, [...ABORT_COMMAND]);
          if (!r.ok) throw new Error(`ending the injector: ${r.stderr || r.status.message || 'exec failed'}`);
          log.info({ pod: podKey(p), container: data.container }, 'injector ended early');
        } else if (st?.state?.terminated) {
          const msg = firstLine(st.state.terminated.message);
          const clean = msg === 'reverted' || msg.startsWith('failed');
          if (!clean && spec.cleanable) await cleanUp(p, pod);
        } else {
          log.warn({ pod: podKey(p), container: data.container, status: describeStatus(st) }, 'injector never started; past its start deadline it refuses to apply');
        }
      }
      if (pod.metadata?.annotations?.[RUN_ANNOTATION] === injection.runId) {
        await core.patchNamespacedPod(
          { namespace: p.namespace, name: p.name, body: { metadata: clearedMarks() } },
          strategicPatch(),
        ).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
      }

      // A killed injector may have left its rules: a short cleanup container removes them by name.
      async function cleanUp(p: Target, pod: V1Pod): Promise<void> {
        const name = cleanupName(data.container);
        if (!pod.spec?.ephemeralContainers?.some((c) => c.name === name)) {
          const c = ephemeralContainer({ name, image: pod.spec!.ephemeralContainers!.find((e) => e.name === data.container)!.image!, targetContainer: p.target, command: command('clean', data), needs });
          await core.patchNamespacedPodEphemeralcontainers({ namespace: p.namespace, name: p.name, body: { spec: { ephemeralContainers: [c] } } }, strategicPatch());
          log.info({ pod: podKey(p), container: name }, 'cleanup container added: the injector exited without cleaning up');
        }
        const until = Date.now() + CLEANUP_WAIT_MS;
        for (;;) {
          const now = await core.readNamespacedPod({ namespace: p.namespace, name: p.name }).catch(() => undefined);
          const st = now?.status?.ephemeralContainerStatuses?.find((c) => c.name === name);
          const t = st?.state?.terminated;
          if (t) {
            if (firstLine(t.message) === 'reverted') return;
            throw new Error(`cleanup container ${describeStatus(st)}`);
          }
          if (!now || Date.now() > until) throw new Error(`cleanup container did not finish within ${CLEANUP_WAIT_MS / 1000}s: ${describeStatus(st)}`);
          await sleep(POLL_MS);
        }
      }
    },
  });
}

export type { Injection };
