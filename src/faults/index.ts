// The faults stage: every registered fault's driver, loaded once (each fault's folder declares its
// definition and its driver; src/faults/registry.ts lists them). Importing this module loads the
// drivers and so @kubernetes/client-node; validate and the schema use the pure registry instead.
import { FAULTS, type FaultType } from './registry.js';
import type { FaultDriver } from './types.js';

export const FAULT_DRIVERS = Object.fromEntries(
  await Promise.all(FAULTS.map(async (f) => {
    const driver = await f.driver();
    if (driver.type !== f.type) throw new Error(`fault ${f.type}: its driver says it is ${driver.type}`);
    return [f.type, driver] as const;
  })),
) as Record<FaultType, FaultDriver>;

export { FAULTS, FAULT_CATALOG, FAULT_TYPES, faultDefinition, type FaultType } from './registry.js';
export type { FaultDefinition, InjectorNeeds, PodSecurityLevel } from './definition.js';
export type { ConfirmOptions, FaultContext, FaultDriver, Injection, TargetOutcome } from './types.js';
export { RUN_ANNOTATION, shortRunId } from './k8s.js';
export { FaultParamError } from './params.js';
export {
  ABORT_COMMAND, READ_RESULT_COMMAND, RESULT_FILE, PID_FILE, TC_HANDLE, WATCHDOG_GRACE_S, DEFAULT_START_TIMEOUT_MS,
  ephemeralContainer, ephemeralContainerName, injectorNeeds, scriptCommand,
} from './inpod.js';
// Each in-pod fault's own script (in its driver).
export { CONTAINER_KILL_SCRIPT } from './container-kill/driver.js';
export { CPU_STRESS_SCRIPT } from './cpu-stress/driver.js';
export { MEMORY_STRESS_SCRIPT } from './memory-stress/driver.js';
export { NETWORK_BANDWIDTH_SCRIPT } from './network-bandwidth/driver.js';
export { NETWORK_CORRUPT_SCRIPT } from './network-corrupt/driver.js';
export { NETWORK_DELAY_SCRIPT } from './network-delay/driver.js';
export { NETWORK_DUPLICATE_SCRIPT } from './network-duplicate/driver.js';
export { NETWORK_LOSS_SCRIPT } from './network-loss/driver.js';
export { NETWORK_NETEM_SCRIPT } from './network-netem/driver.js';
export { NETWORK_PARTITION_SCRIPT } from './network-partition/driver.js';
export { errorText, execIn } from './exec.js';
export { istioFault } from './http-fault/driver.js';
