// Fetch with the `git` binary when the machine has one. isomorphic-git stays the default where
// git is absent (the architecture chose a pure-JS client so the controller needs nothing
// installed; the controller image does carry git); where git exists, its fetch and
// index-pack are native code: a cold fetch of 10,000 experiment files takes git ~0.2 s against
// several seconds of JS inflate and indexing in isomorphic-git. The store stays a plain bare
// repository that isomorphic-git and the pack reader read either way.
// Arguments go to execFile as a list (never through a shell); credentials go through the
// environment (GIT_CONFIG_*), never the command line, where other users could read them.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SourceError, redact } from './errors.js';

let available: Promise<boolean> | undefined;

/** Whether a usable `git` (2.31+ for GIT_CONFIG_COUNT) is on PATH; asked once per process. */
export function hasNativeGit(): Promise<boolean> {
  available ??= new Promise((resolve) => {
    execFile('git', ['--version'], { timeout: 5000 }, (err, stdout) => {
      const m = /git version (\d+)\.(\d+)/.exec(String(stdout));
      resolve(!err && !!m && (Number(m[1]) > 2 || (Number(m[1]) === 2 && Number(m[2]) >= 31)));
    });
  });
  return available;
}

export interface NativeFetch {
  gitdir: string;
  url: string;
  remoteRef: string; // refs/heads/main, refs/pull/7/head
  depth?: number;
  headers: Record<string, string>; // e.g. Authorization, sent as http.extraHeader
  timeoutMs?: number;
}

/** `git fetch` of one ref into the bare store; returns the fetched commit. */
export async function nativeFetch(o: NativeFetch): Promise<string> {
  // A short name is a branch (as isomorphic-git reads it); anything else must be a plain ref name.
  const remoteRef = o.remoteRef.startsWith('refs/') ? o.remoteRef : `refs/heads/${o.remoteRef}`;
  if (!/^refs\/[\w./-]+$/.test(remoteRef) || remoteRef.includes('..') || remoteRef.endsWith('/') || remoteRef.endsWith('.lock')) {
    throw new SourceError('not-found', `fetch: ${JSON.stringify(o.remoteRef)} is not a ref name`, { url: redact(o.url) });
  }
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '', GCM_INTERACTIVE: 'never' };
  const config: [string, string][] = [
    ['credential.helper', ''], // no stored credentials, no prompts: only what we pass
    // Always keep what arrives as a pack (as isomorphic-git does), never loose objects: the pack
    // reader serves every blob, and the pack count bounds the store (maxPacks).
    ['fetch.unpackLimit', '1'],
    ...Object.entries(o.headers).map(([k, v]): [string, string] => ['http.extraHeader', `${k}: ${v}`]),
  ];
  env.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  const args = ['--git-dir', o.gitdir, 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--no-auto-gc'];
  if (o.depth) args.push(`--depth=${o.depth}`);
  const local = `refs/remotes/origin/${remoteRef.slice('refs/'.length)}`;
  args.push('--', o.url, `+${remoteRef}:${local}`);
  await new Promise<void>((resolve, reject) => {
    execFile('git', args, { env, timeout: o.timeoutMs ?? 120_000, maxBuffer: 1 << 20 }, (err, _stdout, stderr) => {
      if (err) reject(fetchError(err, String(stderr), o.url));
      else resolve();
    });
  });
  const oid = (await readFile(join(o.gitdir, local), 'utf8').catch(() => '')).trim();
  if (/^[0-9a-f]{40}$/.test(oid)) return oid;
  // Refs may have been packed by an earlier git run.
  const packed = await readFile(join(o.gitdir, 'packed-refs'), 'utf8').catch(() => '');
  const line = packed.split('\n').find((l) => l.endsWith(` ${local}`));
  if (line && /^[0-9a-f]{40} /.test(line)) return line.slice(0, 40);
  throw new SourceError('protocol', `fetch ${remoteRef}: git fetch left no ${local}`, { url: redact(o.url) });
}

/** git's stderr mapped to the source's error kinds (the same kinds isomorphic-git's errors map to). */
export function fetchError(err: Error & { killed?: boolean; code?: unknown }, stderr: string, url: string): SourceError {
  const safeUrl = redact(url);
  const first = stderr.split('\n').map((l) => l.replace(/^(fatal|error): /, '').trim()).find(Boolean) ?? err.message;
  const msg = `git fetch: ${first.replace(url, safeUrl)}`;
  const status = Number(/returned error: (\d{3})/.exec(stderr)?.[1]) || undefined;
  if (err.killed) return new SourceError('network', `${msg} (timed out)`, { url: safeUrl, cause: err });
  if (status === 401 || status === 403 || /Authentication failed|could not read Username|terminal prompts disabled/i.test(stderr)) return new SourceError('auth', msg, { status, url: safeUrl, cause: err });
  if (status === 404 || /couldn't find remote ref|not found|does not appear to be a git repository/i.test(stderr)) return new SourceError('not-found', msg, { status, url: safeUrl, cause: err });
  if ((status && status >= 500) || /Could not resolve host|Failed to connect|Connection refused|Connection reset|timed out|Empty reply|early EOF|RPC failed/i.test(stderr)) return new SourceError('network', msg, { status, url: safeUrl, cause: err });
  return new SourceError('protocol', msg, { status, url: safeUrl, cause: err });
}
