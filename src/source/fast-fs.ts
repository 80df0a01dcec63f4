// A node:fs wrapper for isomorphic-git on a gitdir that only this process writes. For every
// object read isomorphic-git first tries a loose object file and then lists objects/pack; on a
// fetched repository (packs only) that is two wasted syscalls per object — most of the time of a
// 10,000-file load. This wrapper answers both from memory and forgets on any write. It also
// answers isomorphic-git's per-call probes cheaply: `readFile()` without a path (its test for a
// promise API) and `stat(gitdir)` (its check for a worktree link).
import * as nodeFs from 'node:fs';
import { join } from 'node:path';

type Promises = typeof nodeFs.promises;

export function fastFs(gitdir: string): { promises: Promises } {
  const real = nodeFs.promises;
  const objects = join(gitdir, 'objects');
  const packDir = join(objects, 'pack');
  let packList: Promise<string[]> | undefined;
  let looseDirs: Promise<Set<string>> | undefined;
  let gitdirStat: Promise<nodeFs.Stats> | undefined;
  const forget = (path: unknown) => {
    if (typeof path === 'string' && path.startsWith(objects)) {
      packList = undefined;
      looseDirs = undefined;
    }
  };
  // One preallocated error: a fresh Error (with its stack) per missing loose object costs ~20 µs.
  const enoent = Object.assign(new Error('ENOENT: no such file or directory (loose object)'), { code: 'ENOENT', errno: -2, syscall: 'open' });
  const noPath = new TypeError('path required');
  const loose = new RegExp(`^${escape(objects)}/([0-9a-f]{2})/[0-9a-f]{38}$`);

  const promises: Promises = {
    ...real,
    readdir: (async (path: nodeFs.PathLike, opts?: unknown) => {
      if (path === packDir && opts === undefined) {
        packList ??= real.readdir(packDir).catch((err: unknown) => {
          packList = undefined;
          throw err;
        });
        return [...(await packList)];
      }
      return real.readdir(path, opts as undefined);
    }) as Promises['readdir'],
    stat: (async (path: nodeFs.PathLike, opts?: unknown) => {
      if (path === gitdir && opts === undefined) {
        gitdirStat ??= real.stat(gitdir).catch((err: unknown) => {
          gitdirStat = undefined;
          throw err;
        });
        return gitdirStat;
      }
      return real.stat(path, opts as undefined);
    }) as Promises['stat'],
    readFile: (async (path: nodeFs.PathLike | nodeFs.promises.FileHandle, opts?: unknown) => {
      if (path === undefined) throw noPath; // isomorphic-git's API probe
      const m = typeof path === 'string' ? loose.exec(path) : null;
      if (m) {
        looseDirs ??= real.readdir(objects).then((names) => new Set(names), () => new Set<string>());
        if (!(await looseDirs).has(m[1]!)) throw enoent;
      }
      return real.readFile(path, opts as undefined);
    }) as Promises['readFile'],
    writeFile: (async (path: nodeFs.PathLike | nodeFs.promises.FileHandle, data: string | NodeJS.ArrayBufferView, opts?: unknown) => {
      forget(path);
      try {
        return await real.writeFile(path, data, opts as undefined);
      } finally {
        forget(path);
      }
    }) as Promises['writeFile'],
    mkdir: (async (path: nodeFs.PathLike, opts?: unknown) => {
      forget(path);
      return real.mkdir(path, opts as undefined);
    }) as Promises['mkdir'],
    unlink: async (path: nodeFs.PathLike) => {
      forget(path);
      return real.unlink(path);
    },
    rename: async (from: nodeFs.PathLike, to: nodeFs.PathLike) => {
      forget(from);
      forget(to);
      return real.rename(from, to);
    },
  };
  return { promises };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
