// A real git smart-HTTP server for tests: `git http-backend` (CGI) behind node:http, serving
// bare repositories under a temporary root. Pushes go in with the `git` CLI; Faultline fetches
// with isomorphic-git. Optional token auth mirrors a hosted Git server.
import { spawn, execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';

const run = promisify(execFile);

export interface GitServer {
  url: string; // base URL; a repository is at `${url}/${name}.git`
  root: string;
  /** Create a bare repository with `main` as its default branch. */
  createRepo(name: string): Promise<string>;
  /** A working clone that tests commit and push from with the git CLI. */
  workClone(name: string): Promise<WorkClone>;
  requests: number; // count of HTTP requests served, for tests that check for fetches
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

const gitEnv = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
};

export async function startGitServer(opts: { token?: string } = {}): Promise<GitServer> {
  const root = await mkdtemp(join(tmpdir(), 'fl-git-'));
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    state.requests++;
    if (opts.token && !authorised(req, opts.token)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' });
      res.end('unauthorised');
      return;
    }
    backend(root, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const authUrl = opts.token ? `http://x-access-token:${opts.token}@127.0.0.1:${port}` : url;

  return {
    url,
    root,
    get requests() {
      return state.requests;
    },
    async createRepo(name) {
      const dir = join(root, `${name}.git`);
      await mkdir(dir, { recursive: true });
      await run('git', ['init', '--bare', '-q', '-b', 'main', dir], { env: { ...process.env, ...gitEnv } });
      await run('git', ['-C', dir, 'config', 'http.receivepack', 'true']);
      return `${url}/${name}.git`;
    },
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
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

function authorised(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return false;
  const [, password] = Buffer.from(header.slice(6), 'base64').toString().split(':');
  return password === token;
}

function backend(root: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const child = spawn('git', ['http-backend'], {
    env: {
      ...process.env,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REMOTE_USER: 'test',
      REMOTE_ADDR: '127.0.0.1',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
    },
  });
  req.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  // Parse the CGI header block, then stream the body.
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    let sep = head.indexOf('\r\n\r\n');
    let sepLen = 4;
    if (sep < 0) {
      sep = head.indexOf('\n\n');
      sepLen = 2;
    }
    if (sep < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, sep).toString().split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i < 0) continue;
      const key = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (key.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else res.setHeader(key, value);
    }
    res.statusCode = status;
    res.write(head.subarray(sep + sepLen));
  });
  child.stdout.on('end', () => res.end());
  child.on('error', () => {
    res.statusCode = 500;
    res.end();
  });
}
