// The desired state, kept up to date incrementally: only changed files are parsed again. Names
// must be unique across the repository; the rare files that share a name are loaded together
// once more, so the duplicate is reported exactly as `faultline validate` reports it.
import { loadExperimentFiles, type LoadOptions } from '../experiments/index.js';
import type { LoadResult, LoadedExperiment, Problem } from '../experiments/model.js';
import type { SourceFile } from '../source/types.js';
import type { ParseCache } from './parse-cache.js';
import { resolveWorkflows } from '../workflows/load.js';
import type { LoadedWorkflow } from '../workflows/model.js';

interface Entry {
  file: SourceFile;
  result: LoadResult;
}

export class DesiredState {
  private readonly byFile = new Map<string, Entry>();
  /** Blob id → the names its valid documents declare (for the pull-request reader). */
  private readonly namesByOid = new Map<string, string[]>();
  /** Files parsed and files taken from the cache, since start. */
  readonly stats = { parsed: 0, cached: 0 };
  constructor(
    private readonly load: LoadOptions = {},
    private readonly cache?: ParseCache,
  ) {}

  /** Applies a snapshot's changes: changed files are parsed (or found in the cache), deleted ones dropped. */
  apply(changed: SourceFile[], deleted: string[]): void {
    for (const path of deleted) {
      this.byFile.delete(path);
      this.cache?.delete(path);
    }
    for (const file of changed) {
      let result = this.cache?.get(file.path, file.oid);
      if (result) this.stats.cached++;
      else {
        result = loadExperimentFiles([file], { ...this.load, resolveReferences: false }); // workflows' references: in result()
        this.stats.parsed++;
        this.cache?.set(file.path, file.oid, file.content, result);
      }
      this.byFile.set(file.path, { file, result });
      const names = namesOf(result);
      if (names) this.namesByOid.set(file.oid, names);
    }
  }

  /**
   * The names declared in a blob, if this state (or the parse cache) has it parsed without
   * problems; undefined otherwise (the caller parses it). Same bytes, same names: keyed by blob id.
   */
  namesOf(oid: string): string[] | undefined {
    const known = this.namesByOid.get(oid);
    if (known) return known;
    const cached = this.cache?.byOid(oid);
    return cached ? namesOf(cached) : undefined;
  }

  /** Replaces everything (a first load). */
  reset(files: SourceFile[]): void {
    this.byFile.clear();
    this.namesByOid.clear();
    this.apply(files, []);
    this.cache?.retain(new Set(files.map((f) => f.path)));
  }

  /** Writes the parse cache (if any) when it changed; a failure only costs the next start a parse. */
  persist(): void {
    this.cache?.save();
  }

  get fileCount(): number {
    return this.byFile.size;
  }

  /** All valid experiments and all problems, with names unique across files. */
  result(): LoadResult {
    const filesOf = new Map<string, Set<string>>();
    for (const [path, { result }] of this.byFile) {
      for (const e of result.experiments) {
        const name = e.experiment.metadata.name;
        const set = filesOf.get(name) ?? new Set<string>();
        set.add(path);
        filesOf.set(name, set);
      }
    }
    const clashing = new Set<string>();
    for (const paths of filesOf.values()) if (paths.size > 1) for (const p of paths) clashing.add(p);

    const experiments: LoadedExperiment[] = [];
    const problems: Problem[] = [];
    const workflows: LoadedWorkflow[] = [];
    for (const path of [...this.byFile.keys()].sort()) {
      if (clashing.has(path)) continue;
      const { result } = this.byFile.get(path)!;
      experiments.push(...result.experiments);
      problems.push(...result.problems);
      workflows.push(...(result.workflows ?? []));
    }
    if (clashing.size > 0) {
      const together = loadExperimentFiles([...clashing].sort().map((p) => this.byFile.get(p)!.file), { ...this.load, resolveReferences: false });
      experiments.push(...together.experiments);
      problems.push(...together.problems);
      workflows.push(...(together.workflows ?? []));
    }
    if (!workflows.length) return { experiments, problems };
    const resolved = resolveWorkflows(workflows, experiments);
    return { experiments, problems: [...problems, ...resolved.problems], workflows: resolved.workflows };
  }
}

/** Experiment and workflow names of a file that loaded without problems; undefined when it had any. */
function namesOf(result: LoadResult): string[] | undefined {
  if (result.problems.length > 0) return undefined;
  return [...result.experiments.map((e) => e.experiment.metadata.name), ...(result.workflows ?? []).map((w) => w.workflow.metadata.name)];
}
