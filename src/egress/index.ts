// Egress: what URLs from experiment files may reach. Pure checks (policy.ts, urls.ts) for
// validate/plan, a guarded fetch (fetch.ts) for connect time.
export { DEFAULT_EGRESS, EgressPolicy, reservedEndpoints, type EgressConfig, type ReservedEndpoint } from './policy.js';
export { EgressRefused, guardedFetch, type GuardedFetch } from './fetch.js';
export { egressProblems, experimentUrls } from './urls.js';
