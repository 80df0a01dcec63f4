// The fault catalog as the experiments stage sees it: each fault's params schema, scope,
// description and extra checks, all declared by the fault's own folder in src/faults and
// collected by its registry (pure definitions; no driver is loaded here).
export { FAULT_CATALOG, faultDefinition } from '../faults/registry.js';
export type { FaultDefinition, InjectorNeeds, PodSecurityLevel } from '../faults/definition.js';
export { INJECTOR_NONROOT_UID, POD_SECURITY_LABEL } from '../faults/definition.js';
export {
  BANDWIDTH_RATE_PATTERN, DNS1123_LABEL_PATTERN, DNS1123_SUBDOMAIN_PATTERN, MEMORY_SIZE_PATTERN, memorySizeMi,
} from '../faults/schema-parts.js';
