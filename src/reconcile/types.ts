import type { LoadedExperiment, Problem } from '../experiments/model.js';

/** What the controller has applied for one experiment (durable record: the status branch). */
export interface AppliedRecord {
  name: string;
  file: string;
  specHash: string;
  revision: string; // source revision that introduced this spec hash
  appliedAt: string; // ISO time
  scheduled: boolean; // a cron schedule is registered
  suspended: boolean;
}

export interface AppliedStore {
  list(): Promise<Map<string, AppliedRecord>>;
  put(record: AppliedRecord): Promise<void>;
  remove(name: string): Promise<void>;
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
