// The status branch: Git is the durable record of what the controller applied and how its runs
// ended. One YAML file per experiment under `<folder>/<name>.yaml` on a branch of its own
// (`faultline/status` by default). The store keeps a bare clone, builds commits straight from
// objects (no working tree), and pushes. A rejected push means someone else wrote first: fetch,
// re-apply the pending changes on the new head and push again, so no update is ever lost.
import fs from 'node:fs';
import { mkdir } from 'node:fs/promises';
import git, { type TreeEntry } from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { parse, stringify } from 'yaml';
import type { AppliedRecord, AppliedStore } from '../reconcile/types.js';
import type { RunJobData, RunListener, RunRecord } from '../runs/types.js';
import { silentLogger, type Logger } from '../log.js';
import { recordReportFailure } from './failures.js';

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
}

/** The content of `experiments/<name>.yaml` on the status branch. */
export interface ExperimentStatusFile {
  name: string;
  file: string;
  specHash: string;
  revision: string;
  applied: { appliedAt: string; scheduled: boolean; suspended: boolean } | null;
  removedAt?: string;
  runs: RunSummary[]; // newest first, at most historyLimit
}

export interface GitStatusStoreOptions {
  url: string; // smart-HTTP URL of the repository holding the status branch
  dir: string; // local bare clone; one store instance per dir
  branch?: string; // default faultline/status
  folder?: string; // default 'experiments'; e.g. 'status/experiments' on a shared branch
  token?: string;
  username?: string; // basic-auth user for the token, default x-access-token
  author?: { name: string; email: string }; // default Faultline <faultline@localhost>
  historyLimit?: number; // runs kept per experiment, default 20
  maxAttempts?: number; // push attempts per batch, default 10
  backoffMs?: number; // first retry delay, doubled each time (with jitter), default 50
  maxBatch?: number; // updates folded into one commit, default 100
  logger?: Logger;
  now?: () => Date;
}

type Mutation = (current: ExperimentStatusFile | undefined) => ExperimentStatusFile | undefined;

interface Pending {
  name: string;
  message: string;
  mutate: Mutation;
  resolve: () => void;
  reject: (err: Error) => void;
}

const ZERO = '0000000000000000000000000000000000000000';
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

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
  return s;
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);

export class GitStatusStore implements AppliedStore, RunListener {
  readonly branch: string;
  readonly folder: string[];
  private readonly gitdir: string;
  private readonly author: { name: string; email: string };
  private readonly historyLimit: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxBatch: number;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly cache = {};
  private pending: Pending[] = [];
  private draining: Promise<void> | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private ready: Promise<void> | undefined;
  private parsed = new Map<string, ExperimentStatusFile>(); // blob oid → parsed file
  /** Commits this store pushed, and push attempts rejected because another writer was first. */
  readonly stats = { commits: 0, conflicts: 0, updates: 0 };

  constructor(private readonly opts: GitStatusStoreOptions) {
    this.gitdir = opts.dir;
    this.branch = opts.branch ?? 'faultline/status';
    this.folder = (opts.folder ?? 'experiments').split('/').filter(Boolean);
    this.author = opts.author ?? { name: 'Faultline', email: 'faultline@localhost' };
    this.historyLimit = Math.max(1, opts.historyLimit ?? 20);
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 10);
    this.backoffMs = opts.backoffMs ?? 50;
    this.maxBatch = Math.max(1, opts.maxBatch ?? 100);
    this.log = (opts.logger ?? silentLogger).child({ component: 'git-status' });
    this.now = opts.now ?? (() => new Date());
  }

  // ---- AppliedStore ----

  /** Every experiment with an applied record, read from a fresh fetch of the branch head. */
  async list(): Promise<Map<string, AppliedRecord>> {
    const files = await this.exclusive(async () => this.readAll(await this.fetchHead()));
    const out = new Map<string, AppliedRecord>();
    for (const f of files.values()) {
      if (!f.applied) continue;
      out.set(f.name, { name: f.name, file: f.file, specHash: f.specHash, revision: f.revision, ...f.applied });
    }
    return out;
  }

  put(record: AppliedRecord): Promise<void> {
    const short = record.specHash.slice(0, 12);
    return this.enqueue(record.name, `faultline: apply ${record.name} ${short} at ${record.revision.slice(0, 12)}`, (cur) => {
      const next: ExperimentStatusFile = {
        name: record.name,
        file: record.file,
        specHash: record.specHash,
        revision: record.revision,
        applied: { appliedAt: record.appliedAt, scheduled: record.scheduled, suspended: record.suspended },
        runs: cur?.runs ?? [],
      };
      return next;
    });
  }

  remove(name: string): Promise<void> {
    return this.enqueue(name, `faultline: remove ${name}`, (cur) => {
      if (!cur) return undefined;
      if (!cur.applied) return cur;
      // Keep the run history; only the applied record goes.
      const next: ExperimentStatusFile = { ...cur, applied: null, removedAt: this.now().toISOString() };
      return next;
    });
  }

  // ---- runs ----

  /** Record a run (idempotent per run id: a second write of the same run replaces the first). */
  recordRun(record: RunRecord): Promise<void> {
    const summary = runSummary(record);
    const what = record.outcome ?? record.state.toLowerCase();
    return this.enqueue(record.experiment, `faultline: ${record.experiment} run ${record.id} ${what}`, (cur) => {
      const base: ExperimentStatusFile = cur ?? {
        name: record.experiment,
        file: record.file,
        specHash: record.specHash,
        revision: record.revision,
        applied: null,
        runs: [],
      };
      const runs = [summary, ...base.runs.filter((r) => r.id !== summary.id)];
      runs.sort((a, b) => (b.start ?? '').localeCompare(a.start ?? ''));
      return { ...base, runs: runs.slice(0, this.historyLimit) };
    });
  }

  /**
   * RunListener: terminal states go to the branch. Returns at once (the write is queued and
   * batched; `flush()` waits for it); a failed write is logged and counted, never thrown.
   */
  onRunUpdate(record: RunRecord, _job?: RunJobData): void {
    if (!TERMINAL.has(record.state)) return;
    this.recordRun(record).catch(() => undefined); // already counted and logged by the writer
  }

  /** The parsed status file of one experiment at the branch head (fresh fetch). */
  async get(name: string): Promise<ExperimentStatusFile | undefined> {
    return this.exclusive(async () => {
      const head = await this.fetchHead();
      if (!head) return undefined;
      const folder = await this.folderTree(head);
      const entry = folder?.find((e) => e.path === `${name}.yaml`);
      return entry ? this.readFile(entry.oid) : undefined;
    });
  }

  /** Resolves when every update queued so far is on the remote. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  // ---- internals ----

  private enqueue(name: string, message: string, mutate: Mutation): Promise<void> {
    if (!NAME.test(name)) return Promise.reject(new Error(`not a valid experiment name: ${JSON.stringify(name)}`));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ name, message, mutate, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // An update may have arrived between the loop's last check and here.
      if (this.pending.length > 0) this.kick();
    });
  }

  // One writer per process: take everything waiting (bounded), commit it as one, push.
  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        await this.exclusive(() => this.commitBatch(batch));
        for (const p of batch) p.resolve();
      } catch (err) {
        recordReportFailure('git-status', err, `${batch.length} status update(s)`, this.log);
        for (const p of batch) p.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    let lastErr: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      try {
        const head = await this.fetchHead();
        const commit = await this.buildCommit(head, batch);
        if (!commit) return; // nothing changed (e.g. the same run recorded twice)
        await git.writeRef({ fs, gitdir: this.gitdir, ref: `refs/heads/${this.branch}`, value: commit, force: true });
        await git.push({
          fs,
          http,
          gitdir: this.gitdir,
          cache: this.cache,
          remote: 'origin',
          ref: this.branch,
          remoteRef: this.branch,
          onAuth: this.onAuth(),
        });
        this.stats.commits++;
        this.stats.updates += batch.length;
        this.log.debug({ commit, updates: batch.length, attempt }, 'status branch updated');
        return;
      } catch (err) {
        lastErr = err;
        this.stats.conflicts++;
        this.log.debug({ err: String(err), attempt }, 'status push rejected or failed; refetching');
        if (attempt < this.maxAttempts) await sleep(this.delay(attempt));
      }
    }
    throw new Error(`status branch ${this.branch}: gave up after ${this.maxAttempts} attempts: ${String(lastErr)}`, {
      cause: lastErr,
    });
  }

  private delay(attempt: number): number {
    const base = this.backoffMs * 2 ** Math.min(attempt - 1, 6);
    return Math.min(5_000, base / 2 + Math.random() * base);
  }

  // Apply the batch on top of `head` and write a commit; undefined when the tree is unchanged.
  private async buildCommit(head: string | undefined, batch: Pending[]): Promise<string | undefined> {
    const rootTree = head ? (await git.readCommit({ fs, gitdir: this.gitdir, oid: head, cache: this.cache })).commit.tree : undefined;
    const folderEntries = head ? ((await this.folderTree(head)) ?? []) : [];
    const byPath = new Map(folderEntries.map((e) => [e.path, e]));
    const docs = new Map<string, ExperimentStatusFile | undefined>();
    for (const p of batch) {
      if (!docs.has(p.name)) {
        const entry = byPath.get(`${p.name}.yaml`);
        docs.set(p.name, entry ? await this.readFile(entry.oid) : undefined);
      }
      docs.set(p.name, p.mutate(docs.get(p.name)));
    }
    let changed = false;
    for (const [name, doc] of docs) {
      const path = `${name}.yaml`;
      const old = byPath.get(path);
      if (!doc) {
        if (old) {
          byPath.delete(path);
          changed = true;
        }
        continue;
      }
      const oid = await git.writeBlob({ fs, gitdir: this.gitdir, blob: new TextEncoder().encode(render(doc)) });
      if (old?.oid !== oid) {
        byPath.set(path, { mode: '100644', path, oid, type: 'blob' });
        changed = true;
      }
    }
    if (!changed) return undefined;
    const tree = await this.writePath(rootTree, this.folder, [...byPath.values()]);
    const when = this.now();
    const sig = { ...this.author, timestamp: Math.floor(when.getTime() / 1000), timezoneOffset: 0 };
    const messages = batch.map((p) => p.message);
    const message =
      messages.length === 1
        ? `${messages[0]}\n`
        : `faultline: ${messages.length} status updates\n\n${messages.map((m) => `- ${m.replace(/^faultline: /, '')}`).join('\n')}\n`;
    return git.writeCommit({
      fs,
      gitdir: this.gitdir,
      commit: { tree, parent: head ? [head] : [], author: sig, committer: sig, message },
    });
  }

  // Replace the tree at `segments` below `treeOid` with `entries`, rewriting the parents.
  private async writePath(treeOid: string | undefined, segments: string[], entries: TreeEntry[]): Promise<string> {
    if (segments.length === 0) return git.writeTree({ fs, gitdir: this.gitdir, tree: entries });
    const [first, ...rest] = segments as [string, ...string[]];
    const current = treeOid ? (await git.readTree({ fs, gitdir: this.gitdir, oid: treeOid, cache: this.cache })).tree : [];
    const child = current.find((e) => e.path === first && e.type === 'tree');
    const oid = await this.writePath(child?.oid, rest, entries);
    const others = current.filter((e) => e.path !== first);
    return git.writeTree({ fs, gitdir: this.gitdir, tree: [...others, { mode: '040000', path: first, oid, type: 'tree' }] });
  }

  private async folderTree(commit: string): Promise<TreeEntry[] | undefined> {
    try {
      const { tree } = await git.readTree({
        fs,
        gitdir: this.gitdir,
        oid: commit,
        filepath: this.folder.join('/'),
        cache: this.cache,
      });
      return tree;
    } catch (err) {
      if ((err as { code?: string }).code === 'NotFoundError') return undefined;
      throw err;
    }
  }

  private async readAll(head: string | undefined): Promise<Map<string, ExperimentStatusFile>> {
    const out = new Map<string, ExperimentStatusFile>();
    if (!head) return out;
    const parsed = new Map<string, ExperimentStatusFile>();
    for (const e of (await this.folderTree(head)) ?? []) {
      if (e.type !== 'blob' || !e.path.endsWith('.yaml')) continue;
      const doc = await this.readFile(e.oid);
      if (!doc) continue;
      parsed.set(e.oid, doc);
      out.set(doc.name, doc);
    }
    this.parsed = parsed; // keep only what the head still has
    return out;
  }

  private async readFile(oid: string): Promise<ExperimentStatusFile | undefined> {
    const known = this.parsed.get(oid);
    if (known) return known;
    const { blob } = await git.readBlob({ fs, gitdir: this.gitdir, oid, cache: this.cache });
    try {
      const doc = parse(new TextDecoder().decode(blob)) as ExperimentStatusFile | null;
      if (!doc || typeof doc.name !== 'string') return undefined;
      doc.runs = Array.isArray(doc.runs) ? doc.runs : [];
      doc.applied = doc.applied ?? null;
      this.parsed.set(oid, doc);
      return doc;
    } catch (err) {
      this.log.warn({ err, oid }, 'unreadable status file; ignored');
      return undefined;
    }
  }

  /** Fetch the branch; the remote head commit, or undefined when the branch does not exist yet. */
  private async fetchHead(): Promise<string | undefined> {
    await this.init();
    const refs = await git.listServerRefs({
      http,
      url: this.opts.url,
      prefix: `refs/heads/${this.branch}`,
      onAuth: this.onAuth(),
    });
    const ref = refs.find((r) => r.ref === `refs/heads/${this.branch}`);
    if (!ref || ref.oid === ZERO) return undefined;
    if (!(await this.hasObject(ref.oid))) {
      await this.fetchBranch();
    }
    return ref.oid;
  }

  private async fetchBranch(): Promise<void> {
    try {
      await git.fetch({
        fs,
        http,
        gitdir: this.gitdir,
        cache: this.cache,
        remote: 'origin',
        ref: this.branch,
        singleBranch: true,
        tags: false,
        onAuth: this.onAuth(),
      });
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

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.gitdir, { recursive: true });
      await git.init({ fs, gitdir: this.gitdir, bare: true, defaultBranch: this.branch });
      await git.addRemote({ fs, gitdir: this.gitdir, remote: 'origin', url: this.opts.url, force: true });
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private onAuth() {
    const { token, username } = this.opts;
    return token ? () => ({ username: username ?? 'x-access-token', password: token }) : undefined;
  }

  // Every git operation on the local clone goes through here, one at a time.
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

function render(doc: ExperimentStatusFile): string {
  const clean = JSON.parse(JSON.stringify(doc)) as ExperimentStatusFile; // drop undefined fields
  return `# Written by Faultline. Do not edit: the controller reads this as its record.\n${stringify(clean, { lineWidth: 0 })}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
