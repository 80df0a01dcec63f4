// The report stage: results back to Git and to people.
export { GitStatusStore, runSummary, type GitStatusStoreOptions, type ExperimentStatusFile, type RunSummary } from './git-status.js';
export { createGitHost, GitHubHost, GitLabHost, GiteaHost } from '../hosts/index.js';
export { PLAN_MARKER, type GitHost, type GitHostConfig, type CommitStatus, type CommitState, type UpsertResult, type RetryOptions, type HostOptions } from '../hosts/types.js';
export {
  handlePullRequest,
  renderPlanComment,
  toPlanEvent,
  pullRequestEventFrom,
  type PlanRowLike,
  type PlanCommentInput,
  type PullRequestEvent,
  type PullRequestDeps,
  type PullRequestResult,
} from './pr-plan.js';
export { PrTreeReader, type PrDiff, type PrTreeReaderOptions } from './pr-source.js';
export { RunResultReporter, renderRunComment, runMarker, type RunResultReporterOptions } from './run-result.js';
export { SlackNotifier, memoryMessageStore, redisMessageStore, runBlocks, summaryBlocks, runEvent, type SlackOptions, type SlackMessageStore } from './slack.js';
export { WebhookNotifier, type WebhookNotifierOptions, type WebhookPayload } from './webhook.js';
export { DurableDeliveries, MemoryDeliveries, NotifyQueue, type Deliveries } from './queue.js';
export { onReportFailure, reportFailureCount, recordReportFailure, type ReportTarget, type ReportFailureHook } from './failures.js';
