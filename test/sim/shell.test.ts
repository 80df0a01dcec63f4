// The simulator reads an injected command the way a shell would, so a fault's own expiry
// (the `sleep "$DURATION"` in the injector script) ends its ephemeral container on time.
import { describe, expect, it } from 'vitest';
import { expandShell } from '../../src/sim/controllers.js';
import { NETWORK_DELAY_SCRIPT, CPU_STRESS_SCRIPT, scriptCommand } from '../../src/faults/index.js';

describe('expandShell', () => {
  it('sees the sleep of the network-delay script with its duration argument', () => {
    const cmd = scriptCommand(NETWORK_DELAY_SCRIPT, ['apply', '1700000000', '7', 'eth0', '100', '0', '0']);
    expect(expandShell(cmd)).toMatch(/sleep "7"/);
  });
  it('sees the sleep of the cpu-stress script', () => {
    const text = expandShell(scriptCommand(CPU_STRESS_SCRIPT, ['apply', '1700000000', '12', '2', '80']));
    expect(text).toMatch(/sleep "12"/);
  });
  it('leaves other commands as they are', () => {
    expect(expandShell(['kill', '-TERM', '1'])).toBe('kill -TERM 1');
    expect(expandShell(['sh', '-c', 'sleep 3'])).toBe('sleep 3');
  });
});
