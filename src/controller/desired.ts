// The desired state, kept up to date incrementally: only changed files are parsed again,
// then names are checked for uniqueness across the whole repository.
import { loadExperimentFiles } from '../experiments/index.js';
import type { LoadResult, LoadedExperiment, Problem } from '../experiments/model.js';
import type { SourceFile } from '../source/types.js';

export class DesiredState {
  private readonly byFile = new Map<string, LoadResult>();

  /** Applies a snapshot's changes; returns the paths that were parsed. */
  apply(changed: SourceFile[], deleted: string[]): void {
    for (const path of deleted) this.byFile.delete(path);
    for (const file of changed) this.byFile.set(file.path, loadExperimentFiles([file]));
  }

  /** Replaces everything (first load, or a pull-request head). */
  reset(files: SourceFile[]): void {
    this.byFile.clear();
    this.apply(files, []);
  }

  get fileCount(): number {
    return this.byFile.size;
  }

  /** All valid experiments and all problems; a name defined twice makes both files' entries invalid. */
  result(): LoadResult {
    const seen = new Map<string, LoadedExperiment[]>();
    const problems: Problem[] = [];
    for (const path of [...this.byFile.keys()].sort()) {
      const r = this.byFile.get(path)!;
      problems.push(...r.problems);
      for (const e of r.experiments) {
        const list = seen.get(e.experiment.metadata.name);
        if (list) list.push(e);
        else seen.set(e.experiment.metadata.name, [e]);
      }
    }
    const experiments: LoadedExperiment[] = [];
    for (const [name, list] of seen) {
      if (list.length === 1) {
        experiments.push(list[0]!);
        continue;
      }
      const where = list.map((e) => `${e.file}:${e.line}`).join(', ');
      for (const e of list) {
        problems.push({
          file: e.file,
          line: e.line,
          column: 1,
          pointer: '/metadata/name',
          message: `metadata.name: "${name}" is defined more than once (${where}); names must be unique in the repository`,
        });
      }
    }
    return { experiments, problems };
  }
}
