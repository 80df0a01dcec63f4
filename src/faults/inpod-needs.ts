// Injector privileges shared by several in-pod faults. Pure.
import { INJECTOR_NONROOT_UID, type InjectorNeeds } from './definition.js';

/** tc (netem, tbf): NET_ADMIN, honoured only for root under no_new_privs. */
export const NET_TC: InjectorNeeds = { capabilities: ['NET_ADMIN'], runAsUser: 0, podSecurity: 'privileged' };
/** stress-ng in the pod's cgroup: no capability, the image's non-root user. */
export const STRESS: InjectorNeeds = { capabilities: [], runAsUser: INJECTOR_NONROOT_UID, podSecurity: 'restricted' };
