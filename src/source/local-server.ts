// A local git smart-HTTP server: `git http-backend` (CGI) behind node:http, serving the bare
// repositories under a folder. The demo serves its seeded repository with it and the tests
// use it as "the Git host" (isomorphic-git speaks only HTTP(S), never file://).
import { spawn, execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';

const run = promisify(execFile);

export interface LocalGitServer {
  url: string; // base URL; a repository is at `${url}/${name}.git`
  root: string;
  /** Create a bare repository with `main` as its default branch; returns its URL. */
  createRepo(name: string): Promise<string>;
  readonly requests: number; // HTTP requests served
  close(): Promise<void>;
}

export async function startLocalGitServer(opts: { root: string; token?: string; host?: string; port?: number }): Promise<LocalGitServer> {
  const { root } = opts;
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
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  return {
    url,
    root,
    get requests() {
      return state.requests;
    },
    async createRepo(name) {
      const dir = join(root, `${name}.git`);
      await mkdir(dir, { recursive: true });
      await run('git', ['init', '--bare', '-q', '-b', 'main', dir], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
      await run('git', ['-C', dir, 'config', 'http.receivepack', 'true']);
      return `${url}/${name}.git`;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
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
