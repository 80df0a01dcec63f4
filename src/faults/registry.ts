// The fault registry: every fault type, each declared by its own folder (definition in index.ts,
// driver in driver.ts). Adding a fault type: one folder and one line here. The fault type list,
// the catalog, the experiment JSON Schema, the drivers and the README's fault tables all derive
// from this list. Pure: importing it does not load any driver.
import { containerKill } from './container-kill/index.js';
import { cpuStress } from './cpu-stress/index.js';
import type { FaultDefinition } from './definition.js';
import { httpFault } from './http-fault/index.js';
import { memoryStress } from './memory-stress/index.js';
import { networkBandwidth } from './network-bandwidth/index.js';
import { networkCorrupt } from './network-corrupt/index.js';
import { networkDelay } from './network-delay/index.js';
import { networkDuplicate } from './network-duplicate/index.js';
import { networkLoss } from './network-loss/index.js';
import { networkNetem } from './network-netem/index.js';
import { networkPartition } from './network-partition/index.js';
import { nodeCordon } from './node-cordon/index.js';
import { podFailure } from './pod-failure/index.js';
import { podKill } from './pod-kill/index.js';
import { scaleDown } from './scale-down/index.js';

export const FAULTS = [
  podKill,
  containerKill,
  podFailure,
  networkDelay,
  networkLoss,
  networkPartition,
  networkCorrupt,
  networkDuplicate,
  networkBandwidth,
  networkNetem,
  cpuStress,
  memoryStress,
  scaleDown,
  nodeCordon,
  httpFault,
] as const;

export type FaultType = (typeof FAULTS)[number]['type'];
export const FAULT_TYPES: readonly FaultType[] = FAULTS.map((f) => f.type);

export const FAULT_CATALOG = Object.fromEntries(FAULTS.map((f) => [f.type, f])) as { readonly [T in FaultType]: FaultDefinition<T> };

/** The definition of a fault type, or undefined for a name that is not registered. */
export function faultDefinition(type: string): FaultDefinition | undefined {
  return (FAULT_CATALOG as Record<string, FaultDefinition | undefined>)[type];
}
