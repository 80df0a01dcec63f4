// The ControlPlane behind the REST API and the dashboard, on the controller's Redis state.
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { enqueueRun, requestAbort, type Queues, type RunWorker } from '../queue/index.js';
import type { RunRecord, RunStore } from '../runs/types.js';
import type { AppliedStore } from '../reconcile/types.js';
import { NotFoundError, ConflictError, type ActiveRun, type ControlPlane, type WorkflowsView } from '../server/control-plane.js';
import { readCatalog } from './catalog.js';
import { experimentStatuses } from './status.js';

export interface KillSwitch {
  set(reason: string): Promise<void>;
  clear(): Promise<void>;
  isSet(): Promise<boolean>;
}

const ACTIVE_STATES = ['Pending', 'Validating', 'Injecting', 'Running', 'Reverting'] as const;

export function createControlPlane(deps: {
  redis: Redis;
  prefix: string;
  queues: Queues;
  runStore: RunStore;
  runWorker?: RunWorker;
  status: AppliedStore;
  safety: KillSwitch;
  log: Logger;
  workflows?: WorkflowsView;
}): ControlPlane {
  const { redis, prefix, queues, runStore, safety, log } = deps;

  const statuses = async () =>
    experimentStatuses({ catalog: await readCatalog(redis, prefix), applied: await deps.status.list(), runs: runStore, runsQueue: queues.runs });

  const activeRuns = async (): Promise<ActiveRun[]> => {
    const catalog = await readCatalog(redis, prefix);
    const durations = new Map(catalog?.entries.map((e) => [e.name, e.durationMs]) ?? []);
    const lists = await Promise.all(ACTIVE_STATES.map((state) => runStore.list({ state, limit: 200 })));
    const out: ActiveRun[] = [];
    for (const run of lists.flatMap((l) => l.runs)) {
      const duration = durations.get(run.experiment);
      const injectedAt = run.timeline.find((t) => t.state === 'Running')?.at;
      out.push(injectedAt && duration ? { ...run, endsAt: new Date(Date.parse(injectedAt) + duration).toISOString() } : run);
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  };

  return {
    listExperiments: statuses,
    async getExperiment(name) {
      return (await statuses()).find((s) => s.name === name);
    },
    runs: runStore,
    ...(deps.workflows ? { workflows: deps.workflows } : {}),
    activeRuns,
    async abortRun(id, by) {
      const run = await runStore.get(id);
      if (!run || !isActive(run)) return false;
      await requestAbort(redis, prefix, { runId: id, reason: `aborted by ${by}` });
      log.warn({ runId: id, experiment: run.experiment, by }, 'abort requested');
      return true;
    },
    async abortAll(by, reason) {
      await safety.set(`${reason} (${by})`);
      const active = await activeRuns();
      await requestAbort(redis, prefix, { all: true, reason: `kill switch: ${reason} (${by})` });
      log.warn({ by, reason, runs: active.map((r) => r.id) }, 'kill switch on: aborting every run');
      return { aborted: active.map((r) => r.id) };
    },
    async clearKillSwitch(by) {
      await safety.clear();
      log.warn({ by }, 'kill switch cleared');
    },
    killSwitch: () => safety.isSet(),
    async trigger(name, by) {
      const catalog = await readCatalog(redis, prefix);
      const entry = catalog?.entries.find((e) => e.name === name);
      if (!entry) throw new NotFoundError(`experiment ${name} not found`);
      if (entry.experiment.spec.suspend) throw new ConflictError(`experiment ${name} is suspended`);
      // Refused up front (the run's own guard would refuse it too, but only after a 202).
      if (await safety.isSet()) throw new ConflictError('the kill switch is on: clear it (DELETE /api/kill-switch) before triggering runs');
      if (catalog?.freeze) throw new ConflictError('the repository is frozen (.faultline/freeze): remove the file before triggering runs');
      const occurrence = `manual-${Date.now()}`;
      const { jobId } = await enqueueRun(queues, {
        runId: '',
        experiment: name,
        file: entry.file,
        specHash: entry.specHash,
        revision: entry.revision,
        occurrence,
        trigger: 'manual',
        spec: entry.experiment,
      });
      log.info({ experiment: name, runId: jobId, by }, 'manual run queued');
      return { runId: jobId };
    },
  };
}

function isActive(run: RunRecord): boolean {
  return (ACTIVE_STATES as readonly string[]).includes(run.state);
}
