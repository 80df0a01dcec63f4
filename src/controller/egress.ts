// The controller's egress policy: from config, with its own port, Redis and the API server
// reserved, and the guarded fetch every URL from an experiment file goes through.
import type { KubeConfig } from '@kubernetes/client-node';
import type { ControllerConfig } from '../config/types.js';
import { EgressPolicy, guardedFetch, reservedEndpoints, type GuardedFetch } from '../egress/index.js';

export interface ControllerEgress {
  policy: EgressPolicy;
  fetch: GuardedFetch;
}

export function egressPolicyFrom(config: ControllerConfig, kc?: KubeConfig): EgressPolicy {
  const reserved = reservedEndpoints({ serverPort: config.server.port, redisUrl: config.redis.url, apiServerUrl: kc?.getCurrentCluster()?.server });
  return new EgressPolicy(config.egress, reserved);
}

export function egressFrom(config: ControllerConfig, kc?: KubeConfig): ControllerEgress {
  const policy = egressPolicyFrom(config, kc);
  return { policy, fetch: guardedFetch(policy) };
}
