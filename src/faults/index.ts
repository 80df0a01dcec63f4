// The fault registry. Adding a fault type: one file and one line here (the Record type makes a
// missing driver a compile error).
import type { FaultType } from '../experiments/model.js';
import { containerKill } from './container-kill.js';
import { cpuStress } from './cpu-stress.js';
import { httpFault } from './http-fault.js';
import { memoryStress } from './memory-stress.js';
import { networkBandwidth } from './network-bandwidth.js';
import { networkCorrupt } from './network-corrupt.js';
import { networkDelay } from './network-delay.js';
import { networkDuplicate } from './network-duplicate.js';
import { networkLoss } from './network-loss.js';
import { networkPartition } from './network-partition.js';
import { nodeCordon } from './node-cordon.js';
import { podFailure } from './pod-failure.js';
import { podKill } from './pod-kill.js';
import { scaleDown } from './scale-down.js';
import type { FaultDriver } from './types.js';

export const FAULT_DRIVERS: Record<FaultType, FaultDriver> = {
  'pod-kill': podKill,
  'container-kill': containerKill,
  'pod-failure': podFailure,
  'network-delay': networkDelay,
  'network-loss': networkLoss,
  'network-partition': networkPartition,
  'network-corrupt': networkCorrupt,
  'network-duplicate': networkDuplicate,
  'network-bandwidth': networkBandwidth,
  'cpu-stress': cpuStress,
  'memory-stress': memoryStress,
  'scale-down': scaleDown,
  'node-cordon': nodeCordon,
  'http-fault': httpFault,
};

/** Faults whose effect is over once injected (recovery is measured from injection, not revert). */
export const INSTANT_FAULTS: ReadonlySet<FaultType> = new Set(['pod-kill', 'container-kill']);

export type { ConfirmOptions, FaultContext, FaultDriver, Injection, TargetOutcome } from './types.js';
export { RUN_ANNOTATION, shortRunId } from './k8s.js';
export { FaultParamError } from './params.js';
export {
  ABORT_COMMAND, CONTAINER_KILL_SCRIPT, CPU_STRESS_SCRIPT, MEMORY_STRESS_SCRIPT, NETWORK_DELAY_SCRIPT, NETWORK_LOSS_SCRIPT,
  NETWORK_PARTITION_SCRIPT, READ_RESULT_COMMAND, RESULT_FILE, PID_FILE, TC_HANDLE, WATCHDOG_GRACE_S, DEFAULT_START_TIMEOUT_MS,
  ephemeralContainer, ephemeralContainerName, injectorNeeds, scriptCommand,
} from './inpod.js';
export { errorText, execIn } from './exec.js';
export { istioFault } from './http-fault.js';
