// Paths on disk → experiment files for `faultline validate`: walks directories for *.yaml/*.yml,
// refuses symlinks that leave the tree being validated, and never reads an oversized file.
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { loadExperimentFiles, type InputFile } from './load.js';
import type { LoadResult, Problem } from './model.js';
import { MAX_FILE_BYTES } from './parse.js';

export interface ValidatePathsOptions {
  /** Symlinks must resolve inside this directory (default: each argument's own tree). */
  root?: string;
}

const YAML_FILE = /\.ya?ml$/i;
const MAX_FILES = 100_000;

export async function validatePaths(paths: string[], opts: ValidatePathsOptions = {}): Promise<LoadResult> {
  const problems: Problem[] = [];
  const files: InputFile[] = [];
  const seen = new Set<string>();
  const fileProblem = (file: string, message: string): void => {
    problems.push({ file, line: 1, column: 1, pointer: '', message });
  };

  for (const arg of paths) {
    let top: ReturnType<typeof statSync>;
    try {
      top = statSync(arg);
    } catch (err) {
      fileProblem(arg, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    const root = realpathSync(opts.root ?? (top.isDirectory() ? arg : dirname(arg)));

    // Synchronous fs calls: for many small files they are much cheaper than the promise API.
    const visit = (path: string, explicit: boolean, realParent?: string): void => {
      let st = lstatSync(path);
      let real: string;
      if (st.isSymbolicLink()) {
        try {
          real = realpathSync(path);
        } catch {
          return fileProblem(path, 'symlink points to a file that does not exist');
        }
        if (!inside(root, real)) return fileProblem(path, `symlink points outside the repository root (${root}); refusing to follow it`);
        st = statSync(real);
      } else {
        real = realParent ? join(realParent, basename(path)) : realpathSync(path);
      }
      if (st.isDirectory()) {
        const realDir = st.isSymbolicLink() ? real : realpathSync(real);
        if (seen.has(realDir)) return; // a symlink loop or the same tree twice
        seen.add(realDir);
        const entries = (readdirSync(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
        for (const e of entries) {
          if (e.name.startsWith('.') || e.name === 'node_modules') continue;
          if (!e.isDirectory() && !e.isSymbolicLink() && !YAML_FILE.test(e.name)) continue;
          if (e.isSymbolicLink() && !YAML_FILE.test(e.name)) {
            // a linked directory is walked, a linked non-YAML file is not
            let target: ReturnType<typeof statSync> | undefined;
            try {
              target = statSync(join(path, e.name));
            } catch {
              target = undefined;
            }
            if (!target?.isDirectory()) continue;
          }
          visit(join(path, e.name), false, realDir);
        }
        return;
      }
      if (!st.isFile()) return fileProblem(path, 'not a regular file');
      if (!explicit && !YAML_FILE.test(path)) return;
      const key = real; // the real path: a file reached twice (through a link) loads once
      if (seen.has(key)) return;
      seen.add(key);
      if (files.length >= MAX_FILES) return fileProblem(path, `more than ${MAX_FILES} files; stopping here`);
      if (st.size > MAX_FILE_BYTES) return fileProblem(path, `file is ${st.size} bytes, over the ${MAX_FILE_BYTES}-byte (1 MiB) limit`);
      try {
        files.push({ path, content: readFileSync(real) });
      } catch (err) {
        fileProblem(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    };
    try {
      visit(arg, true);
    } catch (err) {
      fileProblem(arg, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  const result = loadExperimentFiles(files);
  result.problems.push(...problems);
  result.problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
  return result;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}
