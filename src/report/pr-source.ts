// A pull request touches a few files in a repository of thousands. This reader fetches the PR's
// refs into its own bare clone and diffs the base and head trees by object id: identical
// subtrees are skipped, and only changed blobs are read. Names of the unchanged experiments (for
// the unique-name rule) come from a cache keyed by blob id, so after the first PR they cost
// nothing.
import fs from 'node:fs';
import { mkdir } from 'node:fs/promises';
import git, { type TreeEntry } from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import picomatch from 'picomatch';
import { parseAllDocuments } from 'yaml';
import { hasNativeGit, nativeFetch } from '../source/native-git.js';
import type { SourceFile } from '../source/types.js';

export interface PrDiff {
  revision: string; // head
  changed: SourceFile[]; // added or modified experiment files
  deleted: string[];
  unchanged: { path: string; oid: string }[];
  /** metadata.name → file, for the unchanged experiment files. */
  unchangedNames: Map<string, string>;
  freeze: boolean;
}

export interface PrTreeReaderOptions {
  url: string;
  dir: string;
  token?: string;
  username?: string;
  paths?: string[]; // globs, default ['experiments/**/*.y?(a)ml']
  /**
   * Names already known for a blob id (the controller's parsed desired state), so indexing a
   * tree of 10,000 unchanged files does not parse them again; undefined: parse the blob here.
   */
  knownNames?: (oid: string) => string[] | undefined;
  /** Fetch with the `git` binary (off the event loop): true/false, or undefined to use it when present. */
  nativeGit?: boolean;
}

const FREEZE = '.faultline/freeze';

export class PrTreeReader {
  private cache = {};
  private readonly names = new Map<string, string[]>(); // blob oid → names in it
  private readonly trees = new Map<string, { files: { path: string; oid: string }[]; names: [string, string][] }>();
  private readonly isMatch: (path: string) => boolean;
  private ready: Promise<void> | undefined;

  constructor(private readonly opts: PrTreeReaderOptions) {
    this.isMatch = picomatch(opts.paths ?? ['experiments/**/*.y?(a)ml'], { dot: false });
  }

  /** Make sure the commits are here, fetching the given refs (branch names, refs/pull/N/head) when not. */
  async ensure(shas: string[], refs: string[]): Promise<void> {
    await this.init();
    const missing = [];
    for (const sha of shas) if (!(await this.has(sha))) missing.push(sha);
    if (missing.length === 0) return;
    for (const ref of refs) {
      if ((await Promise.all(shas.map((sha) => this.has(sha)))).every(Boolean)) break;
      await this.fetchRef(ref);
    }
    for (const sha of missing) if (!(await this.has(sha))) throw new Error(`commit ${sha} not found after fetching ${refs.join(', ')}`);
  }

  /**
   * Fetch a branch and (unless `index: false`) index its experiment names, so the first PR after
   * start-up is fast too. The fetch alone is cheap for the event loop (native git runs in its own
   * process); indexing reads every tree and takes names from `knownNames` or parses the blob.
   */
  async warm(branch: string, o: { index?: boolean } = {}): Promise<void> {
    await this.init();
    await this.fetchRef(branch);
    if (o.index === false) return;
    const { commit } = await git.readCommit({ fs, gitdir: this.opts.dir, oid: await this.resolve(branch), cache: this.cache });
    await this.subtree(commit.tree);
  }

  /** Resolve a sha or a fetched branch name to a commit. */
  async resolve(ref: string): Promise<string> {
    if (/^[0-9a-f]{40}$/.test(ref)) return ref;
    const name = ref.replace(/^refs\/heads\//, '');
    // Native git keeps the remote's ref path (refs/remotes/origin/heads/main), isomorphic-git the branch name.
    for (const local of [`refs/remotes/origin/heads/${name}`, `refs/remotes/origin/${name}`]) {
      try {
        return await git.resolveRef({ fs, gitdir: this.opts.dir, ref: local });
      } catch {
        // try the other layout
      }
    }
    throw new Error(`ref ${ref} not fetched`);
  }

  private async fetchRef(ref: string): Promise<void> {
    if (this.opts.nativeGit ?? (await hasNativeGit())) {
      const { token, username } = this.opts;
      const headers: Record<string, string> = token ? { Authorization: `Basic ${Buffer.from(`${username ?? 'x-access-token'}:${token}`).toString('base64')}` } : {};
      await nativeFetch({ gitdir: this.opts.dir, url: this.opts.url, remoteRef: ref, headers });
      this.cache = {}; // git added a pack behind isomorphic-git's back
      return;
    }
    // Not singleBranch: then every local ref counts as a "have" and the pack holds only new objects.
    await git.fetch({ fs, http, gitdir: this.opts.dir, cache: this.cache, remote: 'origin', ref, singleBranch: false, tags: false, ...this.auth() });
  }

  /** One blob's bytes (an object the last diff listed). */
  async readBlob(oid: string): Promise<Uint8Array> {
    return (await git.readBlob({ fs, gitdir: this.opts.dir, oid, cache: this.cache })).blob;
  }

  /** Diff from the merge base of base and head (what the PR itself changes) to head. */
  async diff(baseRef: string, headSha: string): Promise<PrDiff> {
    const gitdir = this.opts.dir;
    const baseTip = await this.resolve(baseRef);
    const [mergeBase] = await git.findMergeBase({ fs, gitdir, oids: [baseTip, headSha], cache: this.cache });
    const baseSha = (mergeBase as string | undefined) ?? baseTip;
    const treeOf = async (sha: string) => (await git.readCommit({ fs, gitdir, oid: sha, cache: this.cache })).commit.tree;
    const out: PrDiff = { revision: headSha, changed: [], deleted: [], unchanged: [], unchangedNames: new Map(), freeze: false };
    const changedOids: { path: string; oid: string }[] = [];
    const unchangedBlobs: { path: string; oid: string }[] = [];
    const read = async (oid: string | undefined): Promise<TreeEntry[]> =>
      oid ? (await git.readTree({ fs, gitdir, oid, cache: this.cache })).tree : [];
    const walk = async (base: string | undefined, head: string | undefined, prefix: string): Promise<void> => {
      const [b, h] = await Promise.all([read(base), read(head)]);
      const bm = new Map(b.map((e) => [e.path, e]));
      for (const e of h) {
        const path = `${prefix}${e.path}`;
        const old = bm.get(e.path);
        bm.delete(e.path);
        if (e.type === 'tree' && old?.oid === e.oid) {
          // Identical subtree: its files and names come from the per-tree cache.
          const sub = await this.subtree(e.oid);
          for (const f of sub.files) if (this.isMatch(`${path}/${f.path}`)) out.unchanged.push({ path: `${path}/${f.path}`, oid: f.oid });
          for (const [name, rel] of sub.names) if (this.isMatch(`${path}/${rel}`)) out.unchangedNames.set(name, `${path}/${rel}`);
          if (path === '.faultline' && sub.files.some((f) => f.path === 'freeze')) out.freeze = true;
        } else if (e.type === 'tree') {
          await walk(old?.type === 'tree' ? old.oid : undefined, e.oid, `${path}/`);
          if (old && old.type !== 'tree' && this.isMatch(`${prefix}${old.path}`)) out.deleted.push(`${prefix}${old.path}`);
        } else if (e.type === 'blob') {
          if (path === FREEZE) out.freeze = true;
          if (!this.isMatch(path)) continue;
          if (old?.oid === e.oid) {
            out.unchanged.push({ path, oid: e.oid });
            unchangedBlobs.push({ path, oid: e.oid });
          }
          else changedOids.push({ path, oid: e.oid });
        }
      }
      for (const gone of bm.values()) {
        if (gone.type === 'tree') await walk(gone.oid, undefined, `${prefix}${gone.path}/`);
        else if (this.isMatch(`${prefix}${gone.path}`)) out.deleted.push(`${prefix}${gone.path}`);
      }
    };
    const [bt, ht] = await Promise.all([treeOf(baseSha), treeOf(headSha)]);
    await walk(bt, ht, '');
    for (const c of changedOids) {
      const { blob } = await git.readBlob({ fs, gitdir, oid: c.oid, cache: this.cache });
      out.changed.push({ path: c.path, oid: c.oid, content: blob });
    }
    for (const u of unchangedBlobs) for (const name of await this.namesIn(u.oid)) out.unchangedNames.set(name, u.path);
    out.deleted.sort();
    return out;
  }

  // Files (relative paths) and experiment names below a tree, cached by tree id: a subtree a PR
  // does not touch costs one map lookup.
  private async subtree(oid: string): Promise<{ files: { path: string; oid: string }[]; names: [string, string][] }> {
    const known = this.trees.get(oid);
    if (known) return known;
    const files: { path: string; oid: string }[] = [];
    const names: [string, string][] = [];
    for (const e of (await git.readTree({ fs, gitdir: this.opts.dir, oid, cache: this.cache })).tree) {
      if (e.type === 'tree') {
        const sub = await this.subtree(e.oid);
        for (const f of sub.files) files.push({ path: `${e.path}/${f.path}`, oid: f.oid });
        for (const [n, p] of sub.names) names.push([n, `${e.path}/${p}`]);
      } else if (e.type === 'blob') {
        files.push({ path: e.path, oid: e.oid });
        if (/\.ya?ml$/.test(e.path)) for (const n of await this.namesIn(e.oid)) names.push([n, e.path]);
      }
    }
    const summary = { files, names };
    this.trees.set(oid, summary);
    if (this.trees.size > 5000) this.trees.delete(this.trees.keys().next().value as string);
    return summary;
  }

  private async namesIn(oid: string): Promise<string[]> {
    const known = this.names.get(oid) ?? this.opts.knownNames?.(oid);
    if (known) return known;
    const { blob } = await git.readBlob({ fs, gitdir: this.opts.dir, oid, cache: this.cache });
    const names: string[] = [];
    try {
      for (const doc of parseAllDocuments(new TextDecoder().decode(blob))) {
        if (!('getIn' in doc)) continue;
        const name = doc.getIn(['metadata', 'name']);
        if (typeof name === 'string') names.push(name);
      }
    } catch {
      // an unparseable unchanged file names nothing; the reconciler reports it on main
    }
    this.names.set(oid, names);
    return names;
  }

  private async has(oid: string): Promise<boolean> {
    try {
      await git.readCommit({ fs, gitdir: this.opts.dir, oid, cache: this.cache });
      return true;
    } catch {
      return false;
    }
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.opts.dir, { recursive: true });
      await git.init({ fs, gitdir: this.opts.dir, bare: true });
      await git.addRemote({ fs, gitdir: this.opts.dir, remote: 'origin', url: this.opts.url, force: true });
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private auth() {
    const { token, username } = this.opts;
    return token ? { onAuth: () => ({ username: username ?? 'x-access-token', password: token }) } : {};
  }
}
