// The status branch: Git is the durable record of what the controller applied and how its runs
// ended. One YAML file per experiment under `<folder>/<shard>/<name>.yaml` (shard: the first two
// hex digits of the name's SHA-1, so no tree grows past a few hundred entries) on a branch of its
// own (`faultline/status` by default). Older branches with the files directly in <folder> are
// read as they are and moved into shards as their files change.
//
// Writes go to a durable outbox first (a file beside the clone), then to Git: everything waiting
// becomes one commit, built from the changed paths only (unchanged subtrees keep their ids) and
// pushed as a pack of just the new objects. A rejected push means someone else wrote first:
// fetch, re-apply the waiting updates on the new head, push again, for as long as it takes. A
// write that keeps failing is counted, logged and reported through `health()`; it stays in the
// outbox, survives a restart and lands when the remote comes back.
//
// Reads keep an index beside the clone (name → blob id and applied record, shard → tree id), so
// a restart or a new head reads only the shards and files whose ids changed.
import fs from 'node:fs';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { CORE_SCHEMA, dump, load } from 'js-yaml';
import type { AppliedRecord, AppliedStore } from '../reconcile/types.js';
import type { RunJobData, RunListener, RunRecord } from '../runs/types.js';
import { silentLogger, type Logger } from '../log.js';
import { PackReader } from '../source/pack-reader.js';
import { recordReportFailure } from './failures.js';
import { hasNativeGit, nativeFetch } from '../source/native-git.js';
import { buildPack, makeCommit, makeObject, makeTree, pushPack, PushRejected, storePack, type GitObject, type TreeItem } from './git-wire.js';
import { PackWorker, PackWorkerError, type BuiltPack } from './pack-worker.js';
import type { Score, WorkflowRunRecord } from '../workflows/run-types.js';
import { scoreRun } from '../workflows/score.js';
import { trendSvg, workflowTimelineSvg, type TrendEntry } from './svg.js';

/** The run summary kept in the status file (a RunRecord without its timeline). */
export interface RunSummary {
  id: string;
  trigger: RunRecord['trigger'];
  specHash: string;
  revision: string;
  state: RunRecord['state'];
  outcome?: RunRecord['outcome'];
  start?: string;
  end?: string;
  targets: RunRecord['targets'];
  blastRadius: RunRecord['blastRadius'];
  probes: RunRecord['probes'];
  guards: RunRecord['guards'];
  recoveryMs?: number;
  abortReason?: string;
  score?: Score; // README "Resilience score"; absent for a run that never put its fault in place
}

/** The content of `experiments/<shard>/<name>.yaml` on the status branch. */
export interface ExperimentStatusFile {
  name: string;
  file: string;
  specHash: string;
  revision: string;
  applied: { appliedAt: string; scheduled: boolean; suspended: boolean; run?: 'queued' | 'ran' } | null;
  removedAt?: string;
  runs: RunSummary[]; // newest first, at most historyLimit
}

export interface GitStatusStoreOptions {
  url: string; // smart-HTTP URL of the repository holding the status branch
  dir: string; // local bare clone, its index and outbox; one store instance per dir
  branch?: string; // default faultline/status
  folder?: string; // default 'experiments'; e.g. 'status/experiments' on a shared branch
  token?: string;
  username?: string; // basic-auth user for the token, default x-access-token
  author?: { name: string; email: string }; // default Faultline <faultline@localhost>
  historyLimit?: number; // runs kept per experiment, default 20
  /** Consecutive failed attempts after which the writer reports itself failing (it keeps trying). Default 10. */
  maxAttempts?: number;
  backoffMs?: number; // first retry delay, doubled each time (with jitter), default 50
  maxBackoffMs?: number; // default 30 s
  logger?: Logger;
  now?: () => Date;
  /**
   * Commits with more new objects than this have their pack built (deflate, checksum) in a
   * worker thread, off the event loop that runs injections and webhooks. Default 64; 0: always;
   * Infinity: never (on this thread, in short slices).
   */
  packWorkerAbove?: number;
  /** Fetch with the `git` binary (default: when it is installed, as the source does). */
  nativeGit?: boolean;
}

/** The content of `workflows/<shard>/<name>.yaml` on the status branch. */
export interface WorkflowStatusFile {
  name: string;
  file: string;
  specHash: string;
  revision: string;
  runs: WorkflowRunRecord[]; // newest first, at most historyLimit; samples thinned to MAX_SAMPLES
  /**
   * The last one-off run (trigger reconcile) that began, written before its first step. With no
   * finished run of that id in `runs`, the controller died during it: a controller that lost
   * Redis reads this and records the run ControllerDied instead of running it again.
   */
  started?: { runId: string; specHash: string; at: string };
}

/** What the status branch knows of a workflow's one-off run `runId` of spec `specHash`. */
export type WorkflowOnceState = 'ran' | 'started' | undefined;

/** Samples (probe rounds, assertion values) kept per run on the branch; more are thinned evenly. */
export const MAX_SAMPLES = 500;

/** An update waiting in the outbox. Plain data: it is written to disk as one JSON line. */
type Op =
  | { seq: number; kind: 'put'; record: AppliedRecord }
  | { seq: number; kind: 'workflow-run'; name: string; record: WorkflowRunRecord }
  | { seq: number; kind: 'workflow-start'; name: string; runId: string; specHash: string; file: string; revision: string; at: string }
  | { seq: number; kind: 'remove'; name: string; at: string }
  | { seq: number; kind: 'run'; name: string; summary: RunSummary; base: { file: string; specHash: string; revision: string } };

type WorkflowOp = Extract<Op, { kind: 'workflow-run' | 'workflow-start' }>;

interface Queued {
  op: Op;
  saved: boolean;
}

/** What the index keeps per status file: enough to list applied records without reading it. */
interface IndexEntry {
  path: string; // below the folder: `<shard>/<name>.yaml` (or `<name>.yaml` on an old branch)
  oid: string;
  file: string;
  specHash: string;
  revision: string;
  applied: ExperimentStatusFile['applied'];
}

interface IndexState {
  version: 1;
  branch: string;
  folder: string;
  head?: string;
  folderOid?: string;
  shards: Record<string, string>; // shard → tree id
  records: Record<string, IndexEntry>;
}

export interface StatusHealth {
  ok: boolean;
  pending: number; // updates in the outbox, not yet on the remote
  failingSince?: string;
  lastError?: string;
}

const ZERO = '0000000000000000000000000000000000000000';
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LOOSE_LIMIT = 64; // commits with more new objects than this are stored as one pack
const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);

export function runSummary(record: RunRecord): RunSummary {
  const s: RunSummary = {
    id: record.id,
    trigger: record.trigger,
    specHash: record.specHash,
    revision: record.revision,
    state: record.state,
    targets: record.targets,
    blastRadius: record.blastRadius,
    probes: record.probes,
    guards: record.guards,
  };
  if (record.outcome) s.outcome = record.outcome;
  if (record.startedAt ?? record.createdAt) s.start = record.startedAt ?? record.createdAt;
  if (record.endedAt) s.end = record.endedAt;
  if (record.recoveryMs !== undefined) s.recoveryMs = record.recoveryMs;
  if (record.reason) s.abortReason = record.reason;
  const score = scoreRun(record);
  if (score) s.score = score;
  return s;
}

/** The trend of an experiment or workflow from its status file's runs: finished runs, oldest first. */
export function trendOf(runs: (RunSummary | WorkflowRunRecord)[]): TrendEntry[] {
  const out: TrendEntry[] = [];
  for (const r of runs) {
    if ('phase' in r) {
      if (!TERMINAL.has(r.phase)) continue;
      const e: TrendEntry = { runId: r.id, at: r.endedAt ?? r.startedAt ?? r.createdAt, outcome: r.phase.toLowerCase() };
      if (r.score) e.score = r.score.value;
      const rec = workflowRecoveryMs(r);
      if (rec !== undefined) e.recoveryMs = rec;
      out.push(e);
    } else {
      if (!TERMINAL.has(r.state)) continue;
      const e: TrendEntry = { runId: r.id, at: r.end ?? r.start ?? '', outcome: r.outcome ?? r.state.toLowerCase() };
      if (r.score) e.score = r.score.value;
      if (r.recoveryMs !== undefined) e.recoveryMs = r.recoveryMs;
      out.push(e);
    }
  }
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

/**
 * A workflow run's recovery time: from the end of its last fault window to the end of the run
 * (the checks and after-assertions that follow are how it shows it is back), when it has both.
 */
export function workflowRecoveryMs(r: WorkflowRunRecord): number | undefined {
  const ends = r.steps.map((s) => (s.faultWindow?.to ? Date.parse(s.faultWindow.to) : NaN)).filter(Number.isFinite);
  const end = r.endedAt ? Date.parse(r.endedAt) : NaN;
  if (!ends.length || !Number.isFinite(end)) return undefined;
  return Math.max(0, end - Math.max(...ends));
}

function thin<T>(items: T[], max = MAX_SAMPLES): T[] {
  if (items.length <= max) return items;
  const step = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * step)]!);
}

/** The run as kept on the branch: its long sample lists thinned evenly. */
export function workflowRunForBranch(r: WorkflowRunRecord): WorkflowRunRecord {
  return {
    ...r,
    probes: thin(r.probes),
    assertions: thin(r.assertions),
    steps: r.steps.map((s) => (s.probes && s.probes.length > MAX_SAMPLES ? { ...s, probes: thin(s.probes) } : s)),
  };
}

/** The shard folder of an experiment's status file. */
export function statusShard(name: string): string {
  return createHash('sha1').update(name).digest('hex').slice(0, 2);
}

/** Path of a workflow's status file, beside the experiments' folder: `workflows/<shard>/<name>.yaml`. */
export function workflowStatusPath(name: string, folder = 'experiments'): string {
  return [...folder.split('/').filter(Boolean).slice(0, -1), 'workflows', statusShard(name), `${name}.yaml`].join('/');
}

/** A workflow run's timeline picture on the branch, next to its status file. */
export function workflowTimelinePath(name: string, runId: string, folder = 'experiments'): string {
  return workflowStatusPath(name, folder).replace(/\.yaml$/, `.runs/${runId}.svg`);
}

/** Path of an experiment's status file on the branch, e.g. `experiments/3f/checkout-pod-kill.yaml`. */
export function statusPath(name: string, folder = 'experiments'): string {
  return [...folder.split('/').filter(Boolean), statusShard(name), `${name}.yaml`].join('/');
}

export class GitStatusStore implements AppliedStore, RunListener {
  readonly branch: string;
  readonly folder: string[];
  private readonly gitdir: string;
  private readonly author: { name: string; email: string };
  private readonly historyLimit: number;
  private readonly failAfter: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly cache = {};
  private readonly packs: PackReader;
  private readonly outboxPath: string;
  private readonly indexPath: string;
  private readonly trees = new Map<string, TreeItem[]>(); // tree id → entries (trees read or written)
  private readonly packWorker = new PackWorker();
  private readonly startedRuns = new Set<string>(); // one-off workflow runs whose start was noted

  private queue: Queued[] = [];
  private seq = 0;
  private waiters: { seq: number; resolve: () => void }[] = [];
  private unsaved: { q: Queued; resolve: () => void; reject: (e: Error) => void }[] = [];
  private fileChain: Promise<unknown> = Promise.resolve();
  private saveScheduled = false;
  private draining: Promise<void> | undefined;
  private holds = 0;
  private closed = false;
  private wake: (() => void) | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private ready: Promise<void> | undefined;
  private state: IndexState;
  private failures = 0;
  private failingSince: Date | undefined;
  private lastError: string | undefined;
  /** Commits this store pushed, push attempts refused because another writer was first, updates landed. */
  readonly stats = { commits: 0, conflicts: 0, updates: 0, failures: 0, bytesPushed: 0, filesRead: 0 };

  constructor(private readonly opts: GitStatusStoreOptions) {
    this.gitdir = opts.dir;
    this.branch = opts.branch ?? 'faultline/status';
    this.folder = (opts.folder ?? 'experiments').split('/').filter(Boolean);
    this.author = opts.author ?? { name: 'Faultline', email: 'faultline@localhost' };
    this.historyLimit = Math.max(1, opts.historyLimit ?? 20);
    this.failAfter = Math.max(1, opts.maxAttempts ?? 10);
    this.backoffMs = opts.backoffMs ?? 50;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.log = (opts.logger ?? silentLogger).child({ component: 'git-status' });
    this.now = opts.now ?? (() => new Date());
    this.packs = new PackReader(this.gitdir);
    this.outboxPath = join(this.gitdir, 'faultline-outbox.jsonl');
    this.indexPath = join(this.gitdir, 'faultline-index.json');
    this.state = this.emptyState();
  }

  // ---- AppliedStore ----

  /**
   * Every experiment with an applied record: the remote head (fetched now) with the updates
   * still in the outbox laid over it. Rejects when the remote cannot be read.
   */
  async list(): Promise<Map<string, AppliedRecord>> {
    await this.start();
    await this.exclusive(async () => this.refresh(await this.fetchHead()));
    const out = new Map<string, AppliedRecord>();
    for (const [name, e] of Object.entries(this.state.records)) {
      if (e.applied) out.set(name, { name, file: e.file, specHash: e.specHash, revision: e.revision, ...e.applied });
    }
    for (const { op } of this.queue) {
      if (op.kind === 'put') out.set(op.record.name, { ...op.record });
      else if (op.kind === 'remove') out.delete(op.name);
    }
    return out;
  }

  /** Resolves once the update is in the durable outbox; it reaches the remote as soon as it can. */
  put(record: AppliedRecord): Promise<void> {
    return this.enqueue({ seq: 0, kind: 'put', record: { ...record } }).saved;
  }

  remove(name: string): Promise<void> {
    return this.enqueue({ seq: 0, kind: 'remove', name, at: this.now().toISOString() }).saved;
  }

  /**
   * Holds commits back until the returned function is called: the reconciler takes a hold for
   * a pass so that all of the pass's records become one commit.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.holds === 0) this.kick();
    };
  }

  // ---- runs ----

  /** Record a run (idempotent per run id). Resolves when it is on the remote. */
  async recordRun(record: RunRecord): Promise<void> {
    const { landed } = this.enqueue({
      seq: 0,
      kind: 'run',
      name: record.experiment,
      summary: runSummary(record),
      base: { file: record.file, specHash: record.specHash, revision: record.revision },
    });
    await landed;
  }

  /**
   * RunListener: terminal states go to the branch. Returns at once (the write goes to the
   * outbox and is batched; `flush()` waits for it); a failing write is logged and counted.
   */
  onRunUpdate(record: RunRecord, _job?: RunJobData): void {
    if (!TERMINAL.has(record.state)) return;
    this.recordRun(record).catch((err: unknown) => this.log.error({ err, experiment: record.experiment, runId: record.id }, 'run record not queued'));
  }

  /** Record a finished workflow run (idempotent per run id). Resolves when it is on the remote. */
  async recordWorkflowRun(record: WorkflowRunRecord): Promise<void> {
    await this.enqueue({ seq: 0, kind: 'workflow-run', name: record.workflow, record }).landed;
  }

  /**
   * The runner's listener: finished workflow runs go to the branch, batched like experiment runs.
   * A one-off run that starts is noted first (the runner awaits this, so the note is in the
   * durable outbox before the first step): see WorkflowStatusFile.started.
   */
  onWorkflowUpdate(record: WorkflowRunRecord): Promise<void> | void {
    if (record.phase === 'Running' && record.trigger === 'reconcile' && !this.startedRuns.has(record.id)) {
      this.startedRuns.add(record.id);
      if (this.startedRuns.size > 1_000) this.startedRuns.delete(this.startedRuns.values().next().value!);
      const at = record.startedAt ?? this.now().toISOString();
      return this.enqueue({ seq: 0, kind: 'workflow-start', name: record.workflow, runId: record.id, specHash: record.specHash, file: record.file, revision: record.revision, at }).saved
        .catch((err: unknown) => this.log.error({ err, workflow: record.workflow, runId: record.id }, 'workflow start not noted on the status branch'));
    }
    if (!TERMINAL.has(record.phase)) return;
    this.recordWorkflowRun(record).catch((err: unknown) => this.log.error({ err, workflow: record.workflow, runId: record.id }, 'workflow run record not queued'));
  }

  /**
   * Whether the one-off run `runId` of spec `specHash` finished ('ran') or began and never
   * finished ('started'), as the branch head and the outbox say. For a controller whose Redis
   * lost the workflow's applied state.
   */
  async workflowOnce(name: string, runId: string, specHash: string): Promise<WorkflowOnceState> {
    let state: WorkflowOnceState;
    const doc = await this.getWorkflow(name);
    if (doc && doc.specHash === specHash) {
      if (doc.runs.some((r) => r.id === runId && TERMINAL.has(r.phase))) state = 'ran';
      else if (doc.started?.runId === runId) state = 'started';
    }
    for (const { op } of this.queue) {
      if (op.kind === 'workflow-run' && op.record.id === runId && TERMINAL.has(op.record.phase)) state = 'ran';
      else if (op.kind === 'workflow-start' && op.runId === runId && state !== 'ran') state = 'started';
    }
    return state;
  }

  /** One workflow's status file at the branch head (fresh fetch). */
  async getWorkflow(name: string): Promise<WorkflowStatusFile | undefined> {
    return this.exclusive(async () => {
      const head = await this.fetchHead();
      const root = head ? (await git.readCommit({ fs, gitdir: this.gitdir, oid: head, cache: this.cache })).commit.tree : undefined;
      return this.readWorkflowDoc(root, name);
    });
  }

  /** Every workflow's status file at the branch head. */
  async listWorkflows(): Promise<WorkflowStatusFile[]> {
    return this.exclusive(async () => {
      const head = await this.fetchHead();
      const root = head ? (await git.readCommit({ fs, gitdir: this.gitdir, oid: head, cache: this.cache })).commit.tree : undefined;
      const dir = workflowStatusPath('x', this.folder.join('/')).split('/').slice(0, -2);
      let tree = root;
      for (const seg of dir) tree = tree ? (await this.readTree(tree)).find((e) => e.path === seg && e.type === 'tree')?.oid : undefined;
      const out: WorkflowStatusFile[] = [];
      for (const shard of tree ? await this.readTree(tree) : []) {
        if (shard.type !== 'tree') continue;
        for (const f of await this.readTree(shard.oid)) {
          if (f.type !== 'blob' || !f.path.endsWith('.yaml')) continue;
          const doc = (await this.readYaml(f.oid)) as WorkflowStatusFile | undefined;
          if (doc && doc.name === f.path.slice(0, -5)) out.push({ ...doc, runs: Array.isArray(doc.runs) ? doc.runs : [] });
        }
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  /** The parsed status file of one experiment at the branch head (fresh fetch). */
  async get(name: string): Promise<ExperimentStatusFile | undefined> {
    return this.exclusive(async () => {
      await this.refresh(await this.fetchHead());
      const e = this.state.records[name];
      return e ? this.readDoc(e.oid) : undefined;
    });
  }

  /** Resolves when every update queued so far is on the remote. */
  async flush(): Promise<void> {
    await this.start();
    const target = this.seq;
    if (!this.queue.some((q) => q.op.seq <= target)) return;
    await new Promise<void>((resolve) => this.waiters.push({ seq: target, resolve }));
  }

  /** Updates not yet on the remote, and whether the writer is failing. */
  health(): StatusHealth {
    const h: StatusHealth = { ok: !this.failingSince, pending: this.queue.length };
    if (this.failingSince) h.failingSince = this.failingSince.toISOString();
    if (this.lastError) h.lastError = this.lastError;
    return h;
  }

  /** Loads the outbox left by an earlier process and starts sending it. */
  start(): Promise<void> {
    this.ready ??= this.init().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  /**
   * Waits up to `timeoutMs` for the outbox to reach the remote, then stops. What has not landed
   * stays in the outbox for the next start.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.closed = true;
    this.wake?.();
    await this.draining;
    await this.fileChain;
    await this.packWorker.close();
    if (this.queue.length > 0) this.log.warn({ pending: this.queue.length }, 'status updates left in the outbox for the next start');
  }

  // ---- outbox ----

  private enqueue(op: Op): { saved: Promise<void>; landed: Promise<void> } {
    const name = op.kind === 'put' ? op.record.name : op.name;
    if (!NAME.test(name)) {
      const err = Promise.reject(new Error(`not a valid experiment name: ${JSON.stringify(name)}`));
      err.catch(() => undefined);
      return { saved: err, landed: err };
    }
    if (this.closed) {
      const err = Promise.reject(new Error('status store is closed'));
      err.catch(() => undefined);
      return { saved: err, landed: err };
    }
    op.seq = ++this.seq;
    const q: Queued = { op, saved: false };
    this.queue.push(q);
    const saved = new Promise<void>((resolve, reject) => this.unsaved.push({ q, resolve, reject }));
    const landed = new Promise<void>((resolve) => this.waiters.push({ seq: op.seq, resolve }));
    saved.catch(() => undefined);
    if (!this.saveScheduled) {
      this.saveScheduled = true;
      setImmediate(() => {
        this.saveScheduled = false;
        this.saveUnsaved();
      });
    }
    return { saved, landed };
  }

  // Everything enqueued since the last save goes to disk in one append.
  private saveUnsaved(): void {
    const batch = this.unsaved.splice(0);
    if (batch.length === 0) return;
    this.onFile(async () => {
      await this.start();
      const text = batch.map(({ q }) => JSON.stringify(q.op)).join('\n') + '\n';
      const fh = await open(this.outboxPath, 'a');
      try {
        await fh.writeFile(text);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      for (const b of batch) b.q.saved = true;
    }).then(
      () => {
        for (const b of batch) b.resolve();
        this.kick();
      },
      (err: unknown) => {
        // Not durable, so not queued: the caller sees the error (the reconciler retries next pass).
        this.log.error({ err }, 'status outbox write failed');
        const dropped = new Set(batch.map((b) => b.q));
        this.queue = this.queue.filter((q) => !dropped.has(q));
        for (const b of batch) b.reject(err instanceof Error ? err : new Error(String(err)));
        this.settleWaiters();
        this.kick();
      },
    );
  }

  private onFile<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.fileChain.then(fn, fn);
    this.fileChain = p.catch(() => undefined);
    return p;
  }

  private async init(): Promise<void> {
    await mkdir(this.gitdir, { recursive: true });
    if (!fs.existsSync(join(this.gitdir, 'config'))) await git.init({ fs, gitdir: this.gitdir, bare: true, defaultBranch: this.branch });
    await git.addRemote({ fs, gitdir: this.gitdir, remote: 'origin', url: this.opts.url, force: true });
    this.state = await this.loadIndex();
    const text = await readFile(this.outboxPath, 'utf8').catch(() => '');
    const old: Queued[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        old.push({ op: JSON.parse(line) as Op, saved: true });
      } catch {
        // A torn last line (crash while appending): the update never resolved, so nothing relied on it.
        this.log.warn('status outbox: unreadable line skipped');
      }
    }
    if (old.length > 0) {
      this.log.info({ pending: old.length }, 'status updates from an earlier run found in the outbox');
      // They go first, renumbered in order before anything queued in this process.
      const base = this.seq;
      old.forEach((q, i) => (q.op.seq = i + 1));
      for (const q of this.queue) q.op.seq += old.length;
      for (const w of this.waiters) w.seq += old.length;
      this.seq = base + old.length;
      this.queue = [...old, ...this.queue];
      this.kick();
    }
  }

  // ---- the writer ----

  private kick(): void {
    if (this.draining || this.closed) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.some((q) => q.saved) && this.holds === 0 && !this.closed) this.kick();
    });
  }

  // One writer per store: all saved updates become one commit; retried until it lands.
  private async drain(): Promise<void> {
    let attempt = 0;
    while (!this.closed && this.holds === 0) {
      const batch = this.queue.filter((q) => q.saved).map((q) => q.op);
      if (batch.length === 0) return;
      attempt++;
      try {
        await this.exclusive(() => this.commitBatch(batch));
      } catch (err) {
        this.failed(err, attempt, batch.length);
        // Refused because another writer was first: the refetch is the wait, plus a little jitter.
        await this.sleep(err instanceof PushRejected ? Math.random() * this.backoffMs : this.delay(attempt));
        continue;
      }
      attempt = 0;
      const done = new Set(batch.map((o) => o.seq));
      this.queue = this.queue.filter((q) => !done.has(q.op.seq));
      this.settleWaiters();
      this.stats.updates += batch.length;
      if (this.failingSince) this.log.info({ pending: this.queue.length }, 'status branch writes recovered');
      this.failingSince = undefined;
      this.lastError = undefined;
      this.failures = 0;
      await this.onFile(() => this.rewriteOutbox());
    }
  }

  // Waiters whose update and every earlier one are done.
  private settleWaiters(): void {
    let lowest = Infinity;
    for (const q of this.queue) if (q.op.seq < lowest) lowest = q.op.seq;
    const settled = this.waiters.filter((w) => w.seq < lowest);
    this.waiters = this.waiters.filter((w) => w.seq >= lowest);
    for (const w of settled) w.resolve();
  }

  private failed(err: unknown, attempt: number, updates: number): void {
    if (err instanceof PushRejected) this.stats.conflicts++;
    else this.stats.failures++;
    // A refusal means another writer got in first; only a long run of them (40) counts as failing.
    this.failures += err instanceof PushRejected ? 0.25 : 1;
    this.lastError = err instanceof Error ? err.message : String(err);
    // A dead pack worker is not the remote's doing: said once per crash (the retry starts a new one).
    if (err instanceof PackWorkerError) this.log.warn({ err: this.lastError, attempt, updates }, 'status pack worker died; the commit is retried with a new worker');
    else this.log.debug({ err: this.lastError, attempt }, 'status push refused or failed; refetching');
    if (!this.failingSince && this.failures >= this.failAfter) {
      this.failingSince = this.now();
      recordReportFailure('git-status', err, `${updates} status update(s) still waiting after ${attempt} attempts; retrying`, this.log);
    }
  }

  private delay(attempt: number): number {
    const base = this.backoffMs * 2 ** Math.min(attempt - 1, 16);
    return Math.min(this.maxBackoffMs, base / 2 + Math.random() * base);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  // The outbox keeps exactly the updates still waiting (saved ones; the others append later).
  private async rewriteOutbox(): Promise<void> {
    const keep = this.queue.filter((q) => q.saved);
    const tmp = `${this.outboxPath}.tmp`;
    await writeFile(tmp, keep.map((q) => `${JSON.stringify(q.op)}\n`).join(''));
    await rename(tmp, this.outboxPath);
  }

  private async commitBatch(batch: Op[]): Promise<void> {
    const head = await this.fetchHead();
    await this.refresh(head);
    const built = await this.buildCommit(head, batch);
    if (!built) return; // nothing changed (e.g. the same run recorded twice)
    const { commit, objects, next } = built;
    // One pack for the local store and the push (a big commit's deflate is its main cost).
    const pack = objects.length > (this.opts.packWorkerAbove ?? LOOSE_LIMIT) ? await this.packWorker.build(objects) : await buildPack(objects);
    await this.storeObjects(objects, pack);
    await pushPack({ url: this.opts.url, ref: `refs/heads/${this.branch}`, oldOid: head ?? ZERO, newOid: commit, pack: pack.pack, headers: this.authHeaders() });
    this.stats.commits++;
    this.stats.bytesPushed += pack.pack.length;
    for (const ref of [`refs/heads/${this.branch}`, `refs/remotes/origin/${this.branch}`]) {
      await git.writeRef({ fs, gitdir: this.gitdir, ref, value: commit, force: true });
    }
    this.state = next;
    this.pruneTrees();
    await this.saveIndex();
    this.log.debug({ commit, updates: batch.length, objects: objects.length, bytes: pack.pack.length }, 'status branch updated');
  }

  // Apply the batch on top of the indexed head: new blobs for changed files, new trees for the
  // shards they are in and the path above them; everything else keeps its id.
  private async buildCommit(head: string | undefined, batch: Op[]): Promise<{ commit: string; objects: GitObject[]; next: IndexState } | undefined> {
    const cur = this.state;
    const docs = new Map<string, ExperimentStatusFile | undefined>();
    const slice = slicer();
    const runNames = new Set(batch.flatMap((o) => (o.kind === 'run' ? [o.name] : [])));
    for (const op of batch) {
      await slice();
      if (op.kind === 'workflow-run' || op.kind === 'workflow-start') continue;
      const name = op.kind === 'put' ? op.record.name : op.name;
      if (!docs.has(name)) {
        const e = cur.records[name];
        docs.set(name, e ? await this.readDoc(e.oid) : undefined);
      }
      docs.set(name, this.mutate(op, docs.get(name)));
    }

    const objects = new Map<string, GitObject>();
    const records = { ...cur.records };
    const shardChanges = new Map<string, Map<string, TreeItem | undefined>>(); // shard → file → entry (undefined: delete)
    const flatRemovals = new Set<string>();
    const change = (shard: string, file: string, item: TreeItem | undefined) => {
      let m = shardChanges.get(shard);
      if (!m) shardChanges.set(shard, (m = new Map()));
      m.set(file, item);
    };
    for (const [name, doc] of docs) {
      await slice();
      const old = cur.records[name];
      const shard = statusShard(name);
      const file = `${name}.yaml`;
      if (!doc) {
        if (old) {
          delete records[name];
          if (old.path.includes('/')) change(shard, file, undefined);
          else flatRemovals.add(old.path);
        }
        continue;
      }
      const blob = makeObject('blob', Buffer.from(render(doc)));
      const path = `${shard}/${file}`;
      if (old?.oid === blob.oid && old.path === path) continue;
      objects.set(blob.oid, blob);
      if (old && !old.path.includes('/')) flatRemovals.add(old.path); // an old flat file moves into its shard
      change(shard, file, { mode: '100644', path: file, oid: blob.oid, type: 'blob' });
      records[name] = { path, oid: blob.oid, file: doc.file, specHash: doc.specHash, revision: doc.revision, applied: doc.applied };
      // The trend beside the record, rewritten only when a run was added (#12: writes O(changed)).
      if (runNames.has(name)) for (const item of trendFiles(name, doc.runs, objects)) change(shard, item.path, item);
    }

    const add = (o: GitObject) => {
      objects.set(o.oid, o);
      this.trees.set(o.oid, this.parseOwnTree(o));
      return o.oid;
    };
    const rootOid = head ? (await git.readCommit({ fs, gitdir: this.gitdir, oid: head, cache: this.cache })).commit.tree : undefined;
    let root = rootOid;
    let folderOid = cur.folderOid;
    const shards = { ...cur.shards };
    if (shardChanges.size > 0 || flatRemovals.size > 0) {
      ({ root, folderOid } = await this.experimentsTree(rootOid, shardChanges, flatRemovals, shards, add));
    }
    const workflowOps = batch.filter((o): o is WorkflowOp => o.kind === 'workflow-run' || o.kind === 'workflow-start');
    if (workflowOps.length > 0) root = await this.applyPaths(root, await this.workflowChanges(rootOid, workflowOps, objects), add);
    if (root === rootOid || root === undefined) return undefined;

    const commit = makeCommit({ tree: root, parent: head, author: this.author, when: this.now(), message: commitMessage(batch) });
    objects.set(commit.oid, commit);
    const next: IndexState = { ...cur, head: commit.oid, ...(folderOid ? { folderOid } : {}), shards, records };
    return { commit: commit.oid, objects: [...objects.values()], next };
  }

  // The experiments' folder with its changed shards, and the trees above it.
  private async experimentsTree(
    rootOid: string | undefined,
    shardChanges: Map<string, Map<string, TreeItem | undefined>>,
    flatRemovals: Set<string>,
    shards: Record<string, string>,
    add: (o: GitObject) => string,
  ): Promise<{ root: string; folderOid: string }> {
    const cur = this.state;
    const folderEntries = cur.folderOid ? new Map((await this.readTree(cur.folderOid)).map((e) => [e.path, e])) : new Map<string, TreeItem>();
    for (const p of flatRemovals) folderEntries.delete(p);
    for (const [shard, changes] of shardChanges) {
      const base = shards[shard] ? await this.readTree(shards[shard]) : [];
      const entries = new Map(base.map((e) => [e.path, e]));
      for (const [file, item] of changes) {
        if (item) entries.set(file, item);
        else entries.delete(file);
      }
      if (entries.size === 0) {
        delete shards[shard];
        folderEntries.delete(shard);
        continue;
      }
      const oid = add(makeTree(entries.values()));
      shards[shard] = oid;
      folderEntries.set(shard, { mode: '040000', path: shard, oid, type: 'tree' });
    }
    const folderOid = add(makeTree(folderEntries.values()));

    // The trees above the folder: each rewritten with the one changed child.
    const chain: (string | undefined)[] = [rootOid];
    for (const seg of this.folder.slice(0, -1)) {
      const parent = chain.at(-1);
      const child = parent ? (await this.readTree(parent)).find((e) => e.path === seg && e.type === 'tree') : undefined;
      chain.push(child?.oid);
    }
    let below = folderOid;
    for (let i = this.folder.length - 1; i >= 0; i--) {
      const parent = chain[i];
      const entries = parent ? (await this.readTree(parent)).filter((e) => e.path !== this.folder[i]) : [];
      below = add(makeTree([...entries, { mode: '040000', path: this.folder[i]!, oid: below, type: 'tree' }]));
    }
    return { root: below, folderOid };
  }

  // Workflow runs: each workflow's status file gains the run (oldest beyond the history limit
  // dropped, with their pictures), the run's timeline SVG beside it, the trend rewritten.
  private async workflowChanges(rootOid: string | undefined, ops: WorkflowOp[], objects: Map<string, GitObject>): Promise<Map<string, TreeItem | undefined>> {
    const folder = this.folder.join('/');
    const changes = new Map<string, TreeItem | undefined>();
    const blob = (path: string, text: string): TreeItem => {
      const o = makeObject('blob', Buffer.from(text));
      objects.set(o.oid, o);
      return { mode: '100644', path: path.slice(path.lastIndexOf('/') + 1), oid: o.oid, type: 'blob' };
    };
    const docs = new Map<string, WorkflowStatusFile | undefined>();
    for (const op of ops) {
      if (!docs.has(op.name)) docs.set(op.name, await this.readWorkflowDoc(rootOid, op.name));
      const old = docs.get(op.name);
      if (op.kind === 'workflow-start') {
        const started = { runId: op.runId, specHash: op.specHash, at: op.at };
        docs.set(op.name, old ? { ...old, started } : { name: op.name, file: op.file, specHash: op.specHash, revision: op.revision, runs: [], started });
        continue;
      }
      const run = workflowRunForBranch(op.record);
      const runs = [run, ...(old?.runs ?? []).filter((r) => r.id !== run.id)]
        .sort((a, b) => (b.startedAt ?? b.createdAt).localeCompare(a.startedAt ?? a.createdAt))
        .slice(0, this.historyLimit);
      const kept = new Set(runs.map((r) => r.id));
      for (const r of old?.runs ?? []) if (!kept.has(r.id)) changes.set(workflowTimelinePath(op.name, r.id, folder), undefined);
      if (kept.has(run.id)) changes.set(workflowTimelinePath(op.name, run.id, folder), blob(`${run.id}.svg`, workflowTimelineSvg(run)));
      docs.set(op.name, { name: op.name, file: run.file, specHash: run.specHash, revision: run.revision, runs, ...(old?.started ? { started: old.started } : {}) });
    }
    for (const [name, doc] of docs) {
      if (!doc) continue;
      const path = workflowStatusPath(name, folder);
      changes.set(path, blob(path, render(doc)));
      const dir = path.slice(0, path.lastIndexOf('/') + 1);
      for (const item of trendFiles(name, doc.runs, objects)) changes.set(`${dir}${item.path}`, item);
    }
    return changes;
  }

  private async readWorkflowDoc(rootOid: string | undefined, name: string): Promise<WorkflowStatusFile | undefined> {
    const oid = await this.blobAt(rootOid, workflowStatusPath(name, this.folder.join('/')));
    if (!oid) return undefined;
    const doc = (await this.readYaml(oid)) as WorkflowStatusFile | undefined;
    if (!doc || doc.name !== name) return undefined;
    doc.runs = Array.isArray(doc.runs) ? doc.runs : [];
    return doc;
  }

  private async blobAt(tree: string | undefined, path: string): Promise<string | undefined> {
    const segs = path.split('/');
    for (let i = 0; tree && i < segs.length; i++) {
      const e = (await this.readTree(tree)).find((x) => x.path === segs[i]);
      if (!e) return undefined;
      if (i === segs.length - 1) return e.type === 'blob' ? e.oid : undefined;
      tree = e.type === 'tree' ? e.oid : undefined;
    }
    return undefined;
  }

  // A tree with some paths below it replaced (item) or removed (undefined): only the trees on
  // those paths are rewritten; an emptied tree goes away.
  private async applyPaths(tree: string | undefined, changes: Map<string, TreeItem | undefined>, add: (o: GitObject) => string): Promise<string | undefined> {
    const entries = new Map((tree ? await this.readTree(tree) : []).map((e) => [e.path, e]));
    const below = new Map<string, Map<string, TreeItem | undefined>>();
    for (const [path, item] of changes) {
      const slash = path.indexOf('/');
      if (slash < 0) {
        if (item) entries.set(path, { ...item, path });
        else entries.delete(path);
        continue;
      }
      const dir = path.slice(0, slash);
      let m = below.get(dir);
      if (!m) below.set(dir, (m = new Map()));
      m.set(path.slice(slash + 1), item);
    }
    for (const [dir, m] of below) {
      const old = entries.get(dir);
      const oid = await this.applyPaths(old?.type === 'tree' ? old.oid : undefined, m, add);
      if (oid) entries.set(dir, { mode: '040000', path: dir, oid, type: 'tree' });
      else entries.delete(dir);
    }
    if (entries.size === 0) return undefined;
    return add(makeTree(entries.values()));
  }

  private mutate(op: Op, cur: ExperimentStatusFile | undefined): ExperimentStatusFile | undefined {
    switch (op.kind) {
      case 'put': {
        const { name, file, specHash, revision, ...applied } = op.record;
        // A replay of the same apply does not forget that its run already ended (nor a run recorded first).
        if (applied.run === 'queued' && cur && cur.specHash === specHash
          && (cur.applied?.run === 'ran' || cur.runs.some((r) => r.specHash === specHash && r.trigger === 'reconcile' && TERMINAL.has(r.state)))) applied.run = 'ran';
        return { name, file, specHash, revision, applied: applied as ExperimentStatusFile['applied'], runs: cur?.runs ?? [] };
      }
      case 'remove':
        if (!cur) return undefined;
        if (!cur.applied) return cur;
        // Keep the run history; only the applied record goes.
        return { ...cur, applied: null, removedAt: op.at };
      case 'run': {
        const base: ExperimentStatusFile = cur ?? { name: op.name, ...op.base, applied: null, runs: [] };
        const runs = [op.summary, ...base.runs.filter((r) => r.id !== op.summary.id)];
        runs.sort((a, b) => (b.start ?? '').localeCompare(a.start ?? ''));
        // "Applied, run queued" becomes "ran" once a run of the applied spec has ended.
        const ran = base.applied?.run === 'queued' && base.specHash === op.summary.specHash && TERMINAL.has(op.summary.state);
        return { ...base, ...(ran ? { applied: { ...base.applied!, run: 'ran' as const } } : {}), runs: runs.slice(0, this.historyLimit) };
      }
    }
  }

  private async storeObjects(objects: GitObject[], pack: BuiltPack): Promise<void> {
    if (objects.length > LOOSE_LIMIT) {
      await storePack(this.gitdir, pack);
      this.packs.reset();
      return;
    }
    for (const o of objects) {
      const path = join(this.gitdir, 'objects', o.oid.slice(0, 2), o.oid.slice(2));
      if (fs.existsSync(path)) continue;
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, deflateSync(Buffer.concat([Buffer.from(`${o.type} ${o.body.length}\0`), o.body])));
    }
  }

  // ---- reading ----

  // Bring the index to `head`, reading only the shards and files whose ids changed.
  private async refresh(head: string | undefined): Promise<void> {
    const cur = this.state;
    if (head === cur.head) return;
    if (!head) {
      this.state = this.emptyState();
      await this.saveIndex();
      return;
    }
    let tree: string | undefined = (await git.readCommit({ fs, gitdir: this.gitdir, oid: head, cache: this.cache })).commit.tree;
    for (const seg of this.folder) {
      tree = tree ? (await this.readTree(tree)).find((e) => e.path === seg && e.type === 'tree')?.oid : undefined;
    }
    const next: IndexState = { ...cur, head, folderOid: tree, shards: {}, records: {} };
    if (tree === cur.folderOid) {
      this.state = { ...cur, head };
      await this.saveIndex();
      return;
    }
    let read = 0;
    const files: { path: string; oid: string; name: string }[] = [];
    for (const e of tree ? await this.readTree(tree) : []) {
      if (e.type === 'tree') {
        next.shards[e.path] = e.oid;
        if (cur.shards[e.path] === e.oid) continue; // unchanged shard: its records carry over below
        for (const f of await this.readTree(e.oid)) {
          if (f.type === 'blob' && f.path.endsWith('.yaml')) files.push({ path: `${e.path}/${f.path}`, oid: f.oid, name: f.path.slice(0, -5) });
        }
      } else if (e.type === 'blob' && e.path.endsWith('.yaml')) {
        files.push({ path: e.path, oid: e.oid, name: e.path.slice(0, -5) });
      }
    }
    for (const [name, r] of Object.entries(cur.records)) {
      const slash = r.path.indexOf('/');
      if (slash > 0 && next.shards[r.path.slice(0, slash)] === cur.shards[r.path.slice(0, slash)]) next.records[name] = r;
    }
    for (const f of files) {
      const known = cur.records[f.name];
      if (known && known.oid === f.oid && known.path === f.path) {
        next.records[f.name] = known;
        continue;
      }
      const doc = await this.readDoc(f.oid);
      read++;
      this.stats.filesRead++;
      if (!doc || doc.name !== f.name) continue;
      next.records[f.name] = { path: f.path, oid: f.oid, file: doc.file, specHash: doc.specHash, revision: doc.revision, applied: doc.applied };
    }
    this.state = next;
    this.pruneTrees();
    await this.saveIndex();
    if (read > 0) this.log.debug({ head, read, records: Object.keys(next.records).length }, 'status branch read');
  }

  // Trees of earlier heads are not needed again (a commit starts from the indexed head): without
  // this, every commit left its shard and folder trees here, growing with the controller's age.
  // Trees above the folder are small and read again from the store when needed.
  private pruneTrees(): void {
    const keep = new Set(Object.values(this.state.shards));
    if (this.state.folderOid) keep.add(this.state.folderOid);
    if (this.trees.size <= keep.size + 64) return;
    for (const oid of this.trees.keys()) if (!keep.has(oid)) this.trees.delete(oid);
  }

  private async readTree(oid: string): Promise<TreeItem[]> {
    const known = this.trees.get(oid);
    if (known) return known;
    const { tree } = await git.readTree({ fs, gitdir: this.gitdir, oid, cache: this.cache });
    const items = tree.map((e) => ({ mode: e.mode, path: e.path, oid: e.oid, type: e.type }));
    this.trees.set(oid, items);
    return items;
  }

  private parseOwnTree(o: GitObject): TreeItem[] {
    const out: TreeItem[] = [];
    const b = o.body;
    let i = 0;
    while (i < b.length) {
      const sp = b.indexOf(0x20, i);
      const nul = b.indexOf(0, sp);
      const mode = b.subarray(i, sp).toString();
      const path = b.subarray(sp + 1, nul).toString();
      const oid = b.subarray(nul + 1, nul + 21).toString('hex');
      const isTree = mode === '40000';
      out.push({ mode: isTree ? '040000' : mode, path, oid, type: isTree ? 'tree' : 'blob' });
      i = nul + 21;
    }
    return out;
  }

  private async readDoc(oid: string): Promise<ExperimentStatusFile | undefined> {
    const doc = (await this.readYaml(oid)) as ExperimentStatusFile | undefined;
    if (!doc) return undefined;
    doc.runs = Array.isArray(doc.runs) ? doc.runs : [];
    doc.applied = doc.applied ?? null;
    return doc;
  }

  private async readYaml(oid: string): Promise<{ name: string } | undefined> {
    const bytes = (await this.packs.readBlob(oid).catch(() => undefined)) ?? (await git.readBlob({ fs, gitdir: this.gitdir, oid, cache: this.cache })).blob;
    try {
      const doc = load(Buffer.from(bytes).toString('utf8'), { schema: CORE_SCHEMA }) as { name?: unknown } | null;
      if (!doc || typeof doc.name !== 'string') return undefined;
      return doc as { name: string };
    } catch (err) {
      this.log.warn({ err, oid }, 'unreadable status file; ignored');
      return undefined;
    }
  }

  private emptyState(): IndexState {
    return { version: 1, branch: this.branch, folder: this.folder.join('/'), shards: {}, records: {} };
  }

  private async loadIndex(): Promise<IndexState> {
    try {
      const s = JSON.parse(await readFile(this.indexPath, 'utf8')) as IndexState;
      if (s.version === 1 && s.branch === this.branch && s.folder === this.folder.join('/') && s.records && s.shards) return s;
    } catch {
      // none yet, or unreadable: rebuilt from the branch
    }
    return this.emptyState();
  }

  private async saveIndex(): Promise<void> {
    const tmp = `${this.indexPath}.tmp`;
    await writeFile(tmp, JSON.stringify(this.state));
    await rename(tmp, this.indexPath);
  }

  /** Fetch the branch; the remote head commit, or undefined when the branch does not exist yet. */
  private async fetchHead(): Promise<string | undefined> {
    await this.start();
    const list = () => git.listServerRefs({ http, url: this.opts.url, prefix: `refs/heads/${this.branch}`, onAuth: this.onAuth(), headers: this.authHeaders() });
    // Read-only, so one immediate retry is safe: it covers a keep-alive socket the server closed.
    const refs = await list().catch((err: unknown) => {
      if ((err as { code?: string }).code === 'ECONNRESET' || /socket hang up/.test(String(err))) return list();
      throw err;
    });
    const ref = refs.find((r) => r.ref === `refs/heads/${this.branch}`);
    if (!ref || ref.oid === ZERO) return undefined;
    if (ref.oid !== this.state.head && !(await this.hasObject(ref.oid))) await this.fetchBranch();
    return ref.oid;
  }

  private async fetchBranch(): Promise<void> {
    // Native git where the machine has it: a writer that lost a push race must refetch before it
    // can retry, and isomorphic-git's fetch (0.4-1.2 s on a busy machine) let a writer that never
    // needs to fetch win every race; git's own takes a tenth of that.
    if (this.opts.nativeGit ?? (await hasNativeGit())) {
      await nativeFetch({ gitdir: this.gitdir, url: this.opts.url, remoteRef: this.branch, headers: this.authHeaders() });
      this.packs.reset();
      return;
    }
    try {
      await git.fetch({ fs, http, gitdir: this.gitdir, cache: this.cache, remote: 'origin', ref: this.branch, singleBranch: true, tags: false, onAuth: this.onAuth(), headers: this.authHeaders() });
      this.packs.reset();
    } catch (err) {
      // isomorphic-git needs the remote HEAD to resolve (a repository with a default branch).
      if ((err as { code?: string; data?: { what?: string } }).data?.what === 'HEAD') {
        throw new Error(`${this.opts.url}: the remote HEAD does not resolve; give the repository a default branch`, { cause: err });
      }
      throw err;
    }
  }

  private async hasObject(oid: string): Promise<boolean> {
    try {
      await git.readCommit({ fs, gitdir: this.gitdir, oid, cache: this.cache });
      return true;
    } catch {
      return false;
    }
  }

  private onAuth() {
    const { token, username } = this.opts;
    return token ? () => ({ username: username ?? 'x-access-token', password: token }) : undefined;
  }

  private authHeaders(): Record<string, string> {
    const { token, username } = this.opts;
    return token ? { Authorization: `Basic ${Buffer.from(`${username ?? 'x-access-token'}:${token}`).toString('base64')}` } : {};
  }

  // Every git operation on the local clone goes through here, one at a time.
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

/** Yields to the event loop once this many ms of work have passed (long loops stay responsive). */
function slicer(ms = 5): () => Promise<void> | undefined {
  let start = performance.now();
  return () => {
    if (performance.now() - start < ms) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        start = performance.now();
        resolve();
      }),
    );
  };
}

function commitMessage(batch: Op[]): string {
  const line = (op: Op) => {
    switch (op.kind) {
      case 'put':
        return `apply ${op.record.name} ${op.record.specHash.slice(0, 12)} at ${op.record.revision.slice(0, 12)}`;
      case 'remove':
        return `remove ${op.name}`;
      case 'run':
        return `${op.name} run ${op.summary.id} ${op.summary.outcome ?? op.summary.state.toLowerCase()}`;
      case 'workflow-run':
        return `workflow ${op.name} run ${op.record.id} ${op.record.phase.toLowerCase()}`;
      case 'workflow-start':
        return `workflow ${op.name} run ${op.runId} started`;
    }
  };
  if (batch.length === 1) return `faultline: ${line(batch[0]!)}\n`;
  const shown = batch.slice(0, 200).map((op) => `- ${line(op)}`);
  if (batch.length > shown.length) shown.push(`- … and ${batch.length - shown.length} more`);
  return `faultline: ${batch.length} status updates\n\n${shown.join('\n')}\n`;
}

// `<name>.trend.json` (the last runs' score and recovery time) and `<name>.trend.svg`, its chart.
function trendFiles(name: string, runs: (RunSummary | WorkflowRunRecord)[], objects: Map<string, GitObject>): TreeItem[] {
  const trend = trendOf(runs);
  const files: [string, string][] = [
    [`${name}.trend.json`, `${JSON.stringify({ name, runs: trend }, null, 1)}\n`],
    [`${name}.trend.svg`, trendSvg(name, trend)],
  ];
  return files.map(([path, text]) => {
    const o = makeObject('blob', Buffer.from(text));
    objects.set(o.oid, o);
    return { mode: '100644', path, oid: o.oid, type: 'blob' as const };
  });
}

function render(doc: ExperimentStatusFile | WorkflowStatusFile): string {
  const clean = JSON.parse(JSON.stringify(doc)) as unknown; // drop undefined fields
  return `# Written by Faultline. Do not edit: the controller reads this as its record.\n${dump(clean, { lineWidth: -1, noRefs: true, schema: CORE_SCHEMA })}`;
}

