// Parameters never reach a shell as text: every hostile value is rejected before a command is
// built, and valid params give exactly the expected argv (constant script + positional args).
import { describe, expect, it } from 'vitest';
import { FAULT_DRIVERS, scriptCommand, CONTAINER_KILL_SCRIPT, NETWORK_DELAY_SCRIPT, NETWORK_LOSS_SCRIPT, NETWORK_PARTITION_SCRIPT, CPU_STRESS_SCRIPT, MEMORY_STRESS_SCRIPT, istioFault } from '../../src/faults/index.js';
import { networkDelay } from '../../src/faults/network-delay/driver.js';
import { FAULT_TYPES } from '../../src/experiments/model.js';
import { silentLogger } from '../../src/log.js';
import type { ResolvedTargets } from '../../src/cluster/types.js';
import type { FaultContext } from '../../src/faults/types.js';
import type { KubeConfig } from '@kubernetes/client-node';

const HOSTILE: unknown[] = [
  '; rm -rf /', '$(id)', '`id`', 'eth0; id', 'eth0\nid', 'eth0 id', '10ms; reboot', 'a'.repeat(500),
  'ｅｔｈ０', 'eth0\u0000', '1e400', '-1', '', null, {}, [], true, -1, 1e308, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60,
  "'; id; '", '"$HOME"', '10.0.0.0/8; id', '10.0.0.0/8 -j ACCEPT', '0x0A000000/8', '10.0.0.256/8', '10.0.0.0/33', '::1/129',
  '256Mi; id', '999999Gi', '0Mi', '1.5Gi', '\u202e01', '500ms\n', '1h1h',
];

const targets: ResolvedTargets = {
  seed: 1, candidates: 1,
  pods: [{ namespace: 'shop', name: 'checkout-a', uid: 'u1', labels: { app: 'checkout' }, nodeName: 'node-1', ready: true, owner: { kind: 'Deployment', name: 'checkout' }, containers: ['checkout'] }],
  refs: [], workloads: [], blastRadius: [],
};

function ctx(type: FaultContext['params'] extends never ? never : string, params: Record<string, unknown>): FaultContext {
  void type;
  return { kc: {} as KubeConfig, runId: 'exp.0123456789abcdef.once', experiment: 'exp', params, durationMs: 3000, targets, injectorImage: 'ghcr.io/faultline/agent:1', log: silentLogger };
}

// Each in-pod fault: a valid base, and the keys whose hostile values must be refused.
const IN_POD: Record<string, { base: Record<string, unknown>; keys: string[] }> = {
  'network-delay': { base: { latency: '100ms', jitter: '10ms', correlation: 25, interface: 'eth0' }, keys: ['latency', 'jitter', 'correlation', 'interface'] },
  'network-loss': { base: { percent: 5, correlation: 0, interface: 'eth0' }, keys: ['percent', 'correlation', 'interface'] },
  'network-partition': { base: { direction: 'both', cidrs: ['10.0.0.0/8'], ports: [80], interface: 'eth0' }, keys: ['direction', 'cidrs', 'ports', 'interface'] },
  'cpu-stress': { base: { workers: 2, load: 80 }, keys: ['workers', 'load'] },
  'memory-stress': { base: { size: '256Mi', workers: 2 }, keys: ['size', 'workers'] },
};

describe('fault parameters cannot inject shell text', () => {
  for (const [type, { base, keys }] of Object.entries(IN_POD)) {
    for (const key of keys) {
      it(`${type}.${key}: every hostile value is rejected in prepare (before any command)`, async () => {
        const driver = FAULT_DRIVERS[type as keyof typeof FAULT_DRIVERS];
        let rejected = 0;
        for (const bad of HOSTILE) {
          // arrays: put the hostile value inside the list too
          const values = key === 'cidrs' || key === 'ports' ? [bad, [bad], ['10.0.0.0/8', bad]] : [bad];
          for (const v of values) {
            if (key === 'ports' && Array.isArray(v) && v.length === 0) continue; // no ports is a valid choice
            await expect(driver.prepare(ctx(type, { ...base, [key]: v })), `${key}=${JSON.stringify(v)}`).rejects.toThrow(/fault parameter|refusing/);
            rejected++;
          }
        }
        expect(rejected).toBeGreaterThanOrEqual(HOSTILE.length);
      });
    }
  }

  it('the scripts are constants: no parameter text ever appears in argv[2]', async () => {
    expect(networkDelay.type).toBe('network-delay');
    for (const script of [NETWORK_DELAY_SCRIPT, NETWORK_LOSS_SCRIPT, NETWORK_PARTITION_SCRIPT, CPU_STRESS_SCRIPT, MEMORY_STRESS_SCRIPT, CONTAINER_KILL_SCRIPT]) {
      expect(script).not.toMatch(/123|eth9/);
    }
  });

  it('scriptCommand refuses any argument outside the safe character set', () => {
    for (const bad of ['a b', 'a;b', '$x', '`x`', 'a\nb', 'ä', '', 'x'.repeat(65), "'", '"', '|', '&', '>', '<', '*', '?', '(', ')', '{', '\\']) {
      expect(() => scriptCommand(NETWORK_DELAY_SCRIPT, ['eth0', bad]), JSON.stringify(bad)).toThrow(/refusing/);
    }
  });

  it('container-kill validates the container and signal', async () => {
    for (const params of [{ container: 'checkout; id' }, { container: 'checkout', signal: 'SIGKILL; id' }, { container: 'checkout', signal: 'HUP' }, { container: '$(id)' }]) {
      await expect(FAULT_DRIVERS['container-kill'].prepare(ctx('container-kill', params))).rejects.toThrow(/fault parameter/);
    }
    await expect(FAULT_DRIVERS['container-kill'].prepare(ctx('container-kill', { container: 'sidecar' }))).rejects.toThrow(/no container sidecar/);
    // SIGKILL is refused: the kernel drops it when sent to PID 1 from inside the PID namespace
    await expect(FAULT_DRIVERS['container-kill'].prepare(ctx('container-kill', { container: 'checkout', signal: 'SIGKILL' }))).rejects.toThrow(/fault parameter signal/);
  });

  it('every fault type has a driver', () => {
    expect(Object.keys(FAULT_DRIVERS).sort()).toEqual([...FAULT_TYPES].sort());
    for (const t of FAULT_TYPES) expect(FAULT_DRIVERS[t].type).toBe(t);
  });
});

describe('built commands for valid params', () => {
  it('network-delay: mode, start deadline, seconds, then iface, delay ms, jitter ms, correlation', () => {
    expect(scriptCommand(NETWORK_DELAY_SCRIPT, ['apply', '1700000000', '3', 'eth0', '1500', '20', '10'])).toEqual(['/bin/sh', '-c', NETWORK_DELAY_SCRIPT, 'faultline', 'apply', '1700000000', '3', 'eth0', '1500', '20', '10']);
  });

  it('the scripts report, arm a watchdog, clean leftovers by name and refuse to start late', () => {
    for (const s of [NETWORK_DELAY_SCRIPT, NETWORK_LOSS_SCRIPT, NETWORK_PARTITION_SCRIPT, CPU_STRESS_SCRIPT, MEMORY_STRESS_SCRIPT]) {
      expect(s).toContain('trap finish EXIT INT TERM HUP');
      expect(s).toContain('echo $$ > /tmp/faultline.pid');
      expect(s).toContain('report applied');
      expect(s).toMatch(/sleep "\$\(\(DURATION \+ 3\)\)" & W=\$!/);
      expect(s).toMatch(/report starting\nundo\n/); // leftovers of an earlier injector go first
      expect(s).toContain('-le "$NOT_AFTER" ]');
    }
    expect(NETWORK_DELAY_SCRIPT).toContain('tc qdisc add dev "$IFACE" root handle fa17: netem delay "${DELAY}ms" "${JITTER}ms" "${CORR}%"');
    expect(NETWORK_DELAY_SCRIPT).toContain('grep -q "^qdisc [a-z_]* fa17: root" && tc qdisc del dev "$IFACE" root');
    expect(NETWORK_LOSS_SCRIPT).toContain('netem loss "${LOSS}%" "${CORR}%"');
    expect(NETWORK_PARTITION_SCRIPT).toContain('-j DROP');
    expect(CPU_STRESS_SCRIPT).toContain('stress-ng --temp-path /tmp --cpu "$WORKERS" --cpu-load "$LOAD" --timeout "${DURATION}s"');
    expect(MEMORY_STRESS_SCRIPT).toContain('stress-ng --temp-path /tmp --vm "$WORKERS" --vm-bytes "${SIZE}m"');
  });

  it('http-fault builds the Istio fault block from numbers only', () => {
    expect(istioFault({ abort: { httpStatus: 503, percent: 50 }, delay: { fixedDelay: '1s500ms', percent: 12.5 } })).toEqual({
      abort: { httpStatus: 503, percentage: { value: 50 } },
      delay: { fixedDelay: '1.5s', percentage: { value: 12.5 } },
    });
    expect(() => istioFault({})).toThrow(/at least one/);
    expect(() => istioFault({ abort: { httpStatus: '503', percent: 50 } })).toThrow(/httpStatus/);
    expect(() => istioFault({ delay: { fixedDelay: '2m', percent: 1 } })).toThrow(/fixedDelay/);
  });
});
