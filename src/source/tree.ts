// Tree walking and diffing over the local object store. The diff compares tree ids and only
// descends into subtrees whose id differs, so an incremental sync touches O(changed path depth)
// trees however large the repository is.
import git, { type FsClient, type TreeEntry } from 'isomorphic-git';
import picomatch from 'picomatch';

export interface ObjectStore {
  gitdir: string;
  fs: FsClient;
  cache: object; // isomorphic-git's parsed-pack cache, shared across calls (big speed-up)
  treesRead: number; // counter, for stats
}

export interface PathFilter {
  /** Does this file path match the globs? */
  file(path: string): boolean;
  /** Could something under this directory match? (prunes the walk) */
  dir(path: string): boolean;
}

export function pathFilter(globs: string[]): PathFilter {
  const isMatch = picomatch(globs);
  const bases = globs.map((g) => picomatch.scan(g).base.replace(/\/+$/, ''));
  return {
    file: (path) => isMatch(path),
    dir: (path) => bases.some((b) => b === '' || path === b || path.startsWith(`${b}/`) || b.startsWith(`${path}/`)),
  };
}

export interface TreeDiff {
  added: Map<string, string>; // path → blob oid (added or modified)
  deleted: string[];
}

async function entries(store: ObjectStore, oid: string): Promise<TreeEntry[]> {
  store.treesRead++;
  const { tree } = await git.readTree({ fs: store.fs, gitdir: store.gitdir, oid, cache: store.cache });
  return tree;
}

// Regular files only: symlinks (120000) and submodules (commit) are not experiment files.
const isFile = (e: TreeEntry) => e.type === 'blob' && (e.mode === '100644' || e.mode === '100755');
const join = (prefix: string, name: string) => (prefix ? `${prefix}/${name}` : name);

/** Every matching file under a tree: path → blob oid. */
export async function listTree(store: ObjectStore, treeOid: string, filter: PathFilter, prefix = '', out = new Map<string, string>()): Promise<Map<string, string>> {
  for (const e of await entries(store, treeOid)) {
    const path = join(prefix, e.path);
    if (e.type === 'tree') {
      if (filter.dir(path)) await listTree(store, e.oid, filter, path, out);
    } else if (isFile(e) && filter.file(path)) out.set(path, e.oid);
  }
  return out;
}

/** Matching files added/modified/deleted from tree `a` to tree `b`. */
export async function diffTrees(store: ObjectStore, a: string, b: string, filter: PathFilter): Promise<TreeDiff> {
  const out: TreeDiff = { added: new Map(), deleted: [] };
  await diffInto(store, a, b, filter, '', out);
  return out;
}

async function diffInto(store: ObjectStore, a: string, b: string, filter: PathFilter, prefix: string, out: TreeDiff): Promise<void> {
  if (a === b) return;
  const [ea, eb] = await Promise.all([entries(store, a), entries(store, b)]);
  const before = new Map(ea.map((e) => [e.path, e]));
  for (const nb of eb) {
    const na = before.get(nb.path);
    before.delete(nb.path);
    const path = join(prefix, nb.path);
    if (na && na.oid === nb.oid && na.type === nb.type && isFile(na) === isFile(nb)) continue; // unchanged (or mode-only change)
    if (nb.type === 'tree') {
      if (!filter.dir(path)) continue;
      if (na?.type === 'tree') await diffInto(store, na.oid, nb.oid, filter, path, out);
      else {
        if (na && isFile(na) && filter.file(path)) out.deleted.push(path);
        for (const [p, oid] of await listTree(store, nb.oid, filter, path)) out.added.set(p, oid);
      }
    } else {
      if (na?.type === 'tree' && filter.dir(path)) for (const p of (await listTree(store, na.oid, filter, path)).keys()) out.deleted.push(p);
      if (!filter.file(path)) continue;
      if (isFile(nb)) out.added.set(path, nb.oid);
      else if (na && isFile(na)) out.deleted.push(path); // became a symlink/submodule
    }
  }
  for (const na of before.values()) {
    const path = join(prefix, na.path);
    if (na.type === 'tree') {
      if (filter.dir(path)) for (const p of (await listTree(store, na.oid, filter, path)).keys()) out.deleted.push(p);
    } else if (isFile(na) && filter.file(path)) out.deleted.push(path);
  }
}

/** Does `path` (a file) exist in the tree? Walks only the path's own directories. */
export async function pathExists(store: ObjectStore, treeOid: string, path: string): Promise<boolean> {
  let oid = treeOid;
  const parts = path.split('/');
  for (let i = 0; i < parts.length; i++) {
    const e = (await entries(store, oid)).find((x) => x.path === parts[i]);
    if (!e) return false;
    if (i === parts.length - 1) return e.type === 'blob';
    if (e.type !== 'tree') return false;
    oid = e.oid;
  }
  return false;
}
