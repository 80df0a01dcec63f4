// The test Git host: the local smart-HTTP server from src/source plus working clones that
// tests commit and push from with the `git` CLI.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { promisify } from 'node:util';
import { startLocalGitServer } from '../../src/source/local-server.js';

const run = promisify(execFile);

export interface GitServer {
  url: string; // base URL; a repository is at `${url}/${name}.git`
  root: string;
  /** Create a bare repository with `main` as its default branch. */
  createRepo(name: string): Promise<string>;
  /** A working clone that tests commit and push from with the git CLI. */
  workClone(name: string): Promise<WorkClone>;
  readonly requests: number; // count of HTTP requests served, for tests that check for fetches
  close(): Promise<void>;
}

export interface WorkClone {
  dir: string;
  write(path: string, content: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** git add -A, commit and push; returns the new commit sha. */
  commitAndPush(message: string, branch?: string): Promise<string>;
  git(...args: string[]): Promise<string>;
}

export const gitEnv = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
};

export async function startGitServer(opts: { token?: string } = {}): Promise<GitServer> {
  const root = await mkdtemp(join(tmpdir(), 'fl-git-'));
  const server = await startLocalGitServer({ root, token: opts.token });
  const authUrl = opts.token ? server.url.replace('http://', `http://x-access-token:${opts.token}@`) : server.url;
  return {
    url: server.url,
    root,
    get requests() {
      return server.requests;
    },
    createRepo: (name) => server.createRepo(name),
    async workClone(name) {
      const dir = await mkdtemp(join(tmpdir(), 'fl-work-'));
      const git = async (...args: string[]) =>
        (await run('git', ['-C', dir, ...args], { env: { ...process.env, ...gitEnv }, maxBuffer: 64 << 20 })).stdout.trim();
      await run('git', ['clone', '-q', `${authUrl}/${name}.git`, dir], { env: { ...process.env, ...gitEnv } });
      await git('checkout', '-q', '-B', 'main');
      return {
        dir,
        git,
        async write(path, content) {
          await mkdir(dirname(join(dir, path)), { recursive: true });
          await writeFile(join(dir, path), content);
        },
        async remove(path) {
          await rm(join(dir, path), { recursive: true, force: true });
        },
        async commitAndPush(message, branch = 'main') {
          await git('add', '-A');
          await git('commit', '-q', '--allow-empty', '-m', message);
          await git('push', '-q', 'origin', `HEAD:refs/heads/${branch}`);
          return git('rev-parse', 'HEAD');
        },
      };
    },
    async close() {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
