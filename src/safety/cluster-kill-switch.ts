// The kill switch's durable copy: a ConfigMap `faultline-kill-switch` in the controller's own
// namespace. Redis holds the fast copy; this one survives a Redis flush and can be set while
// Redis is down (`faultline abort --all`).
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';

export const KILL_SWITCH_CONFIGMAP = 'faultline-kill-switch';

export interface KillSwitchValue { reason: string; at: string }

const code = (err: unknown) => (err as { code?: unknown } | null)?.code;

export class ClusterKillSwitch {
  private readonly core: CoreV1Api;
  constructor(kc: KubeConfig, readonly namespace: string) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  get where(): string {
    return `ConfigMap ${this.namespace}/${KILL_SWITCH_CONFIGMAP}`;
  }

  async read(): Promise<KillSwitchValue | undefined> {
    try {
      const cm = await this.core.readNamespacedConfigMap({ namespace: this.namespace, name: KILL_SWITCH_CONFIGMAP });
      return cm.data?.active === 'true' ? { reason: cm.data.reason ?? 'kill switch', at: cm.data.at ?? '' } : undefined;
    } catch (err) {
      if (code(err) === 404) return undefined;
      throw err;
    }
  }

  async set(reason: string, at = new Date().toISOString()): Promise<void> {
    await this.write({ active: 'true', reason, at });
  }

  /** Off is written, not deleted: the object stays, so a stale replica cannot mistake "gone" for a read error. */
  async clear(): Promise<void> {
    await this.write({ active: 'false', at: new Date().toISOString() });
  }

  private async write(data: Record<string, string>): Promise<void> {
    const body: V1ConfigMap = {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: KILL_SWITCH_CONFIGMAP, namespace: this.namespace, labels: { 'app.kubernetes.io/name': 'faultline' } },
      data,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.core.replaceNamespacedConfigMap({ namespace: this.namespace, name: KILL_SWITCH_CONFIGMAP, body });
        return;
      } catch (err) {
        if (code(err) !== 404 || attempt > 3) throw err;
      }
      try {
        await this.core.createNamespacedConfigMap({ namespace: this.namespace, body });
        return;
      } catch (err) {
        if (code(err) !== 409 || attempt > 3) throw err; // created meanwhile: replace it
      }
    }
  }
}
