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
  ABORT_COMMAND, CONTAINER_KILL_SCRIPT, CPU_STRESS_SCRIPT, MEMORY_STRESS_SCRIPT, NETWORK_DELAY_SCRIPT, NETWORK_LOSS_SCRIPT,
  NETWORK_PARTITION_SCRIPT, READ_RESULT_COMMAND, RESULT_FILE, PID_FILE, TC_HANDLE, WATCHDOG_GRACE_S, DEFAULT_START_TIMEOUT_MS,
  ephemeralContainer, ephemeralContainerName, injectorNeeds, scriptCommand,
} from './inpod.js';
export { errorText, execIn } from './exec.js';
export { istioFault } from './http-fault/driver.js';
