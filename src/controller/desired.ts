// The desired state, kept up to date incrementally: only changed files are parsed again. Names
// must be unique across the repository; the rare files that share a name are loaded together
// once more, so the duplicate is reported exactly as `faultline validate` reports it.
import { loadExperimentFiles, type LoadOptions } from '../experiments/index.js';
import type { LoadResult, LoadedExperiment, Problem } from '../experiments/model.js';
import type { SourceFile } from '../source/types.js';

interface Entry {
  file: SourceFile;
  result: LoadResult;
}

export class DesiredState {
  private readonly byFile = new Map<string, Entry>();
  constructor(private readonly load: LoadOptions = {}) {}

  /** Applies a snapshot's changes: changed files are parsed, deleted ones dropped. */
  apply(changed: SourceFile[], deleted: string[]): void {
    for (const path of deleted) this.byFile.delete(path);
    for (const file of changed) this.byFile.set(file.path, { file, result: loadExperimentFiles([file], this.load) });
  }

  /** Replaces everything (a first load). */
  reset(files: SourceFile[]): void {
    this.byFile.clear();
    this.apply(files, []);
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
    for (const path of [...this.byFile.keys()].sort()) {
      if (clashing.has(path)) continue;
      const { result } = this.byFile.get(path)!;
      experiments.push(...result.experiments);
      problems.push(...result.problems);
    }
    if (clashing.size > 0) {
      const together = loadExperimentFiles([...clashing].sort().map((p) => this.byFile.get(p)!.file), this.load);
      experiments.push(...together.experiments);
      problems.push(...together.problems);
    }
    return { experiments, problems };
  }
}
