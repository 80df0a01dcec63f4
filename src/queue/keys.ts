// Every Redis key and channel Faultline itself uses beside BullMQ's own (`<prefix>:runs:*`,
// `<prefix>:reconcile:*`). Kept in one place so no two modules collide.

export const QUEUE_RECONCILE = 'reconcile';
export const QUEUE_RUNS = 'runs';
export const QUEUE_WORKFLOWS = 'workflows';

export const keys = {
  abortChannel: (prefix: string) => `${prefix}:abort`,
  abortExperiment: (prefix: string, name: string) => `${prefix}:abort-req:experiment:${name}`,
  abortRun: (prefix: string, runId: string) => `${prefix}:abort-req:run:${runId}`,
  freeze: (prefix: string) => `${prefix}:freeze`,
  runMarker: (prefix: string, jobId: string) => `${prefix}:run-marker:${jobId}`,
  applied: (prefix: string) => `${prefix}:applied`,
  leader: (prefix: string, name: string) => `${prefix}:leader:${name}`,
  runStore: (prefix: string) => `${prefix}:runstore`,
  workflowStore: (prefix: string) => `${prefix}:wfstore`,
  workflowsApplied: (prefix: string) => `${prefix}:wf-applied`,
  workflowMarker: (prefix: string, jobId: string) => `${prefix}:wf-marker:${jobId}`,
  /** Heartbeats of live workflow runs live under this prefix (startHeartbeat's key space, apart from runs'). */
  workflowHeartbeats: (prefix: string) => `${prefix}:wf`,
} as const;

/** Run job id `${experiment}.${specHash16}.${occurrence}`; BullMQ ids may not contain ':'. */
export function runJobId(experiment: string, specHash: string, occurrence: string): string {
  const id = `${experiment}.${specHash.slice(0, 16)}.${occurrence}`;
  if (id.includes(':')) throw new Error(`run job id may not contain ':' (${id})`);
  return id;
}
