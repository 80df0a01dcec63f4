// Leader election on a coordination.k8s.io/v1 Lease, the client-go way: acquire when free or
// expired, renew well inside the lease duration, release on stop. Optimistic concurrency through
// resourceVersion (a 409 means someone else wrote; re-read next round). Expiry is judged by how long
// *this* process has seen the same record unchanged, so clock skew between replicas does not matter.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { silentLogger, type Logger } from '../log.js';

export interface LeaderElectorOptions {
  name: string;
  namespace: string;
  identity: string;
  leaseDurationSeconds?: number; // default 15
  /** How often the leader renews; default a third of the lease duration. */
  renewPeriodMs?: number;
  /** How often a follower tries to acquire; default the renew period. */
  retryPeriodMs?: number;
  log?: Logger;
}

/**
 * A MicroTime value: RFC 3339 with exactly six fractional digits, as the API server requires.
 * client-node's V1MicroTime serialises this way; a plain Date (milliseconds) is rejected with 400.
 */
export function microTime(at: Date | number = new Date()): V1MicroTime {
  return new V1MicroTime(typeof at === 'number' ? at : at.getTime());
}

export function formatMicroTime(at: Date): string {
  return microTime(at).toISOString();
}

function statusCode(err: unknown): number | undefined {
  return (err as { code?: number; statusCode?: number }).code ?? (err as { statusCode?: number }).statusCode;
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly durationMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private readonly log: Logger;
  private leader = false;
  private listeners = new Set<(leader: boolean) => void>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private observed: { key: string; at: number } | undefined;
  private lastRenew = 0;

  constructor(
    kc: KubeConfig,
    private readonly opts: LeaderElectorOptions,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.durationMs = (opts.leaseDurationSeconds ?? 15) * 1000;
    this.renewMs = opts.renewPeriodMs ?? Math.max(100, Math.floor(this.durationMs / 3));
    this.retryMs = opts.retryPeriodMs ?? this.renewMs;
    this.log = (opts.log ?? silentLogger).child({ component: 'leader-election', lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
  }

  isLeader(): boolean {
    // A leader that has not renewed within the lease duration no longer trusts its lease.
    if (this.leader && Date.now() - this.lastRenew > this.durationMs) this.setLeader(false);
    return this.leader;
  }

  /** Subscribe to leadership changes; returns an unsubscribe function. */
  onChange(cb: (leader: boolean) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = async (): Promise<void> => {
      if (!this.running) return;
      await this.tryAcquireOrRenew();
      if (!this.running) return;
      this.timer = setTimeout(() => {
        this.loop = tick();
      }, this.leader ? this.renewMs : this.retryMs);
    };
    this.loop = tick();
  }

  /** Stops trying and, when leader, releases the lease so another replica can take over at once. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.loop?.catch(() => undefined);
    if (this.leader) await this.release();
    this.setLeader(false);
  }

  /** One round: returns whether this identity holds the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity } = this.opts;
    const now = new Date();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (statusCode(err) !== 404) return this.failed('read', err);
      try {
        await this.api.createNamespacedLease({ namespace, body: this.leaseBody(undefined, now) });
        return this.won();
      } catch (e) {
        if (statusCode(e) === 409) return this.lost(); // someone created it first
        return this.failed('create', e);
      }
    }

    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const key = `${holder}|${String(spec.renewTime ?? '')}|${lease.metadata?.resourceVersion ?? ''}`;
    if (this.observed?.key !== key) this.observed = { key, at: Date.now() };
    const durationMs = (spec.leaseDurationSeconds ?? this.durationMs / 1000) * 1000;
    const expired = Date.now() - this.observed.at > durationMs;
    if (holder && holder !== identity && !expired) return this.lost();

    try {
      await this.api.replaceNamespacedLease({ name, namespace, body: this.leaseBody(lease, now) });
      return this.won();
    } catch (err) {
      if (statusCode(err) === 409) return this.lost(); // someone wrote in between; re-read next round
      return this.failed('update', err);
    }
  }

  private leaseBody(current: V1Lease | undefined, now: Date): V1Lease {
    const spec = current?.spec ?? {};
    const taking = spec.holderIdentity !== this.opts.identity;
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.opts.name, namespace: this.opts.namespace },
      spec: {
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: Math.max(1, Math.round(this.durationMs / 1000)),
        // Times read back are strings; every time written is a V1MicroTime (six fractional digits).
        acquireTime: taking || !spec.acquireTime ? microTime(now) : microTime(new Date(spec.acquireTime as unknown as string)),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (current && taking && spec.holderIdentity ? 1 : 0),
      },
    };
    if (current?.metadata?.resourceVersion) body.metadata!.resourceVersion = current.metadata.resourceVersion;
    if (current?.metadata?.labels) body.metadata!.labels = current.metadata.labels;
    return body;
  }

  private async release(): Promise<void> {
    const { name, namespace, identity } = this.opts;
    try {
      const lease = await this.api.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      const now = new Date();
      const body = this.leaseBody(lease, now);
      // client-go's release: empty holder, 1 s duration, so anyone may take it right away.
      body.spec = { ...body.spec, holderIdentity: '', leaseDurationSeconds: 1 };
      await this.api.replaceNamespacedLease({ name, namespace, body });
      this.log.info('released leadership');
    } catch (err) {
      this.log.warn({ err: (err as Error).message, code: statusCode(err) }, 'could not release the lease; it will expire');
    }
  }

  private won(): boolean {
    this.lastRenew = Date.now();
    this.setLeader(true);
    return true;
  }

  private lost(): boolean {
    this.setLeader(false);
    return false;
  }

  private failed(what: string, err: unknown): boolean {
    this.log.warn({ err: (err as Error).message, code: statusCode(err) }, `lease ${what} failed`);
    // Keep leading only while the last renewal is still inside the lease.
    return this.isLeader();
  }

  private setLeader(value: boolean): void {
    if (this.leader === value) return;
    this.leader = value;
    this.log.info({ leader: value }, value ? 'became leader' : 'lost leadership');
    for (const cb of this.listeners) {
      try {
        cb(value);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'leadership listener threw');
      }
    }
  }
}
