export { buildServer } from './app.js';
export { readinessFrom } from './health.js';
export { DELIVERY_TTL_SECONDS } from './webhooks.js';
export { signGithub, signGitea, githubSignatureValid, gitlabTokenValid, hmacHexMatches } from './signatures.js';
export { normaliseGithub, normaliseGitlab, normaliseGitea, type Normalised } from './normalise.js';
export type { GitHostKind, PushEvent, PushCommit, PullRequestEvent, ReadinessResult, ServerDeps, ServerPlugin } from './types.js';
