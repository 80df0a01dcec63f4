// Every metric Faultline exports, defined in one place so the Grafana dashboard and the alert
// rules can be checked against this list (test/deploy) and stages only import what they record.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
// prom-client's process and Node.js metrics under their standard names (process_cpu_seconds_total,
// nodejs_eventloop_lag_seconds) so stock Node.js dashboards find them; Faultline's own carry faultline_.
collectDefaultMetrics({ register: registry });

export const runsTotal = new Counter({
  name: 'faultline_runs_total',
  help: 'Runs finished, by fault type and outcome',
  labelNames: ['fault', 'outcome'] as const,
  registers: [registry],
});
export const activeFaults = new Gauge({
  name: 'faultline_active_faults',
  help: 'Faults injected and not yet reverted, by fault type',
  labelNames: ['fault'] as const,
  registers: [registry],
});
export const runDuration = new Histogram({
  name: 'faultline_run_duration_seconds',
  help: 'Wall time of a run from start to terminal state',
  labelNames: ['fault', 'outcome'] as const,
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
  registers: [registry],
});
export const recoveryTime = new Histogram({
  name: 'faultline_recovery_seconds',
  help: 'Time after revert until the touched workloads were back to their ready count',
  labelNames: ['fault'] as const,
  buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300],
  registers: [registry],
});
export const reconcileDuration = new Histogram({
  name: 'faultline_reconcile_duration_seconds',
  help: 'Time to reconcile desired against applied state',
  labelNames: ['trigger'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
export const lastReconcileTimestamp = new Gauge({
  name: 'faultline_last_reconcile_timestamp_seconds',
  help: 'Unix time of the last successful reconcile',
  registers: [registry],
});
export const guardBlocks = new Counter({
  name: 'faultline_guard_blocks_total',
  help: 'Runs refused by a safety guard, by guard',
  labelNames: ['guard'] as const,
  registers: [registry],
});
export const webhookDeliveries = new Counter({
  name: 'faultline_webhook_deliveries_total',
  help: 'Webhook deliveries, by host and result',
  labelNames: ['host', 'result'] as const,
  registers: [registry],
});
export const gitFetchErrors = new Counter({
  name: 'faultline_git_fetch_errors_total',
  help: 'Failed fetches of the experiments repository',
  registers: [registry],
});
export const reportFailures = new Counter({
  name: 'faultline_report_failures_total',
  help: 'Reports that could not be delivered, by target (github, gitlab, gitea, slack, webhook, git-status)',
  labelNames: ['target'] as const,
  registers: [registry],
});
export const queueDepth = new Gauge({
  name: 'faultline_queue_jobs',
  help: 'Jobs in a queue, by queue and state',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
});
export const statusOutbox = new Gauge({
  name: 'faultline_status_outbox_updates',
  help: 'Status-branch updates waiting in the outbox (not yet pushed)',
  registers: [registry],
});
export const statusWriteFailing = new Gauge({
  name: 'faultline_status_write_failing',
  help: '1 while status-branch writes keep failing (they are retried until they land)',
  registers: [registry],
});
export const invalidExperiments = new Gauge({
  name: 'faultline_invalid_experiments',
  help: 'Experiment files with validation problems at the last reconcile',
  registers: [registry],
});
export const revertsPending = new Gauge({
  name: 'faultline_reverts_pending',
  help: 'Faults whose run is not live any more and that the revert loop has not yet reverted',
  registers: [registry],
});
export const faultsOverdue = new Gauge({
  name: 'faultline_faults_overdue',
  help: 'Faults still in place more than the revert grace after the end of their run (expiresAt)',
  registers: [registry],
});
export const revertAttempts = new Counter({
  name: 'faultline_revert_attempts_total',
  help: 'Revert attempts by the executor and the revert loop, by result',
  labelNames: ['by', 'result'] as const,
  registers: [registry],
});
export const resilienceScore = new Gauge({
  name: 'faultline_resilience_score',
  help: 'Resilience score (0..100, README "Resilience score") of the last finished run, per experiment or per workflow',
  labelNames: ['experiment', 'workflow'],
  registers: [registry],
});
export const workflowSteps = new Counter({
  name: 'faultline_workflow_steps_total',
  help: 'Steps of finished workflow runs, by workflow and step outcome (succeeded, failed, aborted, skipped)',
  labelNames: ['workflow', 'outcome'],
  registers: [registry],
});
