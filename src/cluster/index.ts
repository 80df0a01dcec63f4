// The cluster stage: Kubernetes access on @kubernetes/client-node.
export { loadKubeConfig, waitForApiServer, KubeConfigError, type LoadKubeConfigOptions } from './kubeconfig.js';
export { matchesSelector, selectorToString } from './selector.js';
export { mulberry32, randomSeed, countForMode, chooseSeeded } from './choose.js';
export { createTargetResolver, isPodReady, type TargetResolverOptions } from './resolver.js';
export { emitEvent, eventFor, type EmitEventInput, type ObjectRef } from './events.js';
export { LeaderElector, microTime, formatMicroTime, type LeaderElectorOptions } from './leader.js';
export type * from './types.js';
