import type { LoadedExperiment, LoadResult, Problem } from '../experiments/model.js';

/** What the controller has applied for one experiment (durable record: the status branch). */
export interface AppliedRecord {
  name: string;
  file: string;
  specHash: string;
  revision: string; // source revision that introduced this spec hash
  appliedAt: string; // ISO time
  scheduled: boolean; // a cron schedule is registered
  suspended: boolean;
  /**
   * One-off experiments: 'queued' once its run is enqueued, 'ran' once a run of this spec hash
   * ended (the status branch sets it from the run record). A 'queued' one-off whose job is gone
   * (Redis lost) is queued again. Absent on records from before this field: treated as ran.
   */
  run?: 'queued' | 'ran';
}

export interface AppliedStore {
  list(): Promise<Map<string, AppliedRecord>>;
  put(record: AppliedRecord): Promise<void>;
  remove(name: string): Promise<void>;
  /** Optional: hold writes back until the returned function is called (one commit per pass). */
  hold?(): () => void;
}

export type PlanAction = 'create' | 'update' | 'delete' | 'unchanged' | 'suspend' | 'invalid';

export interface PlanItem {
  name: string;
  action: PlanAction;
  file: string;
  specHash?: string;
  revision: string;
  experiment?: LoadedExperiment; // absent for delete / invalid
  problems?: Problem[]; // for invalid
}

export interface ReconcilePlan {
  revision: string;
  items: PlanItem[];
  freeze: boolean;
}

/** Input of planReconcile: the desired state (from a source snapshot) and the applied records. */
export interface PlanInput {
  revision: string;
  load: LoadResult; // from loadExperimentFiles / DesiredState.result()
  applied: Map<string, AppliedRecord>;
  freeze: boolean; // `.faultline/freeze` exists at this revision
  /** file → names it defined at the last good load; lets a now-broken file keep those names. */
  previousFiles?: Map<string, string[]>;
}

/** What Reconciler.reconcile is given; it reads the applied records itself. */
export type ReconcileRequest = Omit<PlanInput, 'applied'>;

/** The outcome of applying a plan: counts per action plus every item with what happened. */
export interface ReconcileSummary {
  revision: string;
  freeze: boolean;
  skipped?: 'not-leader';
  counts: Record<PlanAction, number>;
  enqueued: number; // run jobs newly added
  failed: number; // items whose queue or store side failed (retried next pass)
  items: {
    name: string;
    action: PlanAction;
    file: string;
    specHash?: string;
    result: 'applied' | 'held' | 'failed' | 'noop';
    jobId?: string;
    enqueued?: boolean;
    error?: string;
  }[];
}
