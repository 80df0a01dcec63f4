export { buildServer } from './app.js';
export { readinessFrom } from './health.js';
export { DELIVERY_TTL_SECONDS } from './webhooks.js';
// Signatures and normalisation live in each host's folder (src/hosts/<kind>/webhook.ts).
export { signGithub, signGitea, githubSignatureValid, gitlabTokenValid, hmacHexMatches, normaliseGithub, normaliseGitlab, normaliseGitea, type Normalised } from '../hosts/index.js';
export type { GitHostKind, PushEvent, PushCommit, PullRequestEvent, ReadinessResult, ServerDeps, ServerPlugin } from './types.js';
