// Paths on disk → experiment files for `faultline validate`: walks directories for *.yaml/*.yml/*.json,
// refuses symlinks that leave the tree being validated, and never reads an oversized file.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { loadExperimentFiles, type InputFile, type LoadOptions } from './load.js';
import type { LoadResult, Problem } from './model.js';
import { MAX_FILE_BYTES } from './parse.js';

export interface ValidatePathsOptions extends LoadOptions {
  /** Symlinks must resolve inside this directory (default: each argument's own tree). */
  root?: string;
}

const YAML_FILE = /\.(ya?ml|json)$/i; // JSON is YAML too: Chaos Toolkit keeps its experiments in .json
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
    const visit = (path: string, explicit: boolean, realParent?: string, entry?: Dirent): void => {
      // A plain file found by readdir needs no lstat: its type is in the entry, and its size comes
      // from fstat on the opened descriptor (below).
      if (entry?.isFile() && realParent !== undefined) return addFile(path, join(realParent, entry.name));
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
          visit(join(path, e.name), false, realDir, e);
        }
        return;
      }
      if (!st.isFile()) return fileProblem(path, 'not a regular file');
      if (!explicit && !YAML_FILE.test(path)) return;
      addFile(path, real);
    };
    const addFile = (path: string, real: string): void => {
      const key = real; // the real path: a file reached twice (through a link) loads once
      if (seen.has(key)) return;
      seen.add(key);
      if (files.length >= MAX_FILES) return fileProblem(path, `more than ${MAX_FILES} files; stopping here`);
      let content: Buffer | string;
      try {
        content = readBounded(real);
      } catch (err) {
        return fileProblem(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      if (typeof content === 'string') return fileProblem(path, content);
      files.push({ path, content });
    };
    try {
      visit(arg, true);
    } catch (err) {
      fileProblem(arg, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  const result = loadExperimentFiles(files, opts);
  result.problems.push(...problems);
  result.problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
  return result;
}

// Opens without following a final symlink (the walker has resolved links already), checks the size
// on the descriptor before reading a byte, and reads exactly that much. A string is a problem.
function readBounded(real: string): Buffer | string {
  const fd = openSync(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return 'not a regular file';
    if (st.size > MAX_FILE_BYTES) return `file is ${st.size} bytes, over the ${MAX_FILE_BYTES}-byte (1 MiB) limit`;
    const buf = Buffer.allocUnsafe(st.size);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break; // shrank since fstat
      n += got;
    }
    return n === buf.length ? buf : buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}
