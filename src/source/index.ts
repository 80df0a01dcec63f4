export { createGitSource, backoffDelay, DEFAULT_PATHS, FREEZE_PATH } from './git-source.js';
export type { GitSourceOptions, GitSourceController, SyncOptions } from './git-source.js';
export { createPoller } from './poller.js';
export type { Poller, PollerOptions } from './poller.js';
export { isReachable } from './reachable.js';
export { SourceError, toSourceError } from './errors.js';
export type { SourceErrorKind } from './errors.js';
export { pathFilter, listTree, diffTrees } from './tree.js';
export type { GitSource, SourceFile, SourceSnapshot, SyncStats } from './types.js';
