// What `faultline demo` stands up around the controller: a Redis, a local Git host seeded
// from experiments/, and the Kubernetes simulator. Everything is torn down at the end.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import { cp, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLocalGitServer, type LocalGitServer } from '../source/local-server.js';

const run = promisify(execFile);

export class DemoSetupError extends Error {}

export interface DemoRedis {
  url: string;
  started: boolean; // a private redis-server this demo started (and stops)
  stop(): Promise<void>;
}

/** REDIS_URL, else 127.0.0.1:6379 if it answers, else a private redis-server on a free port. */
export async function demoRedis(env: NodeJS.ProcessEnv = process.env): Promise<DemoRedis> {
  // FAULTLINE_DEMO_PRIVATE_REDIS=1: always a private redis-server (the tests check it is stopped).
  const privateOnly = env.FAULTLINE_DEMO_PRIVATE_REDIS === '1';
  if (env.REDIS_URL && !privateOnly) return { url: env.REDIS_URL, started: false, stop: async () => undefined };
  if (!privateOnly && (await answers('127.0.0.1', 6379))) return { url: 'redis://127.0.0.1:6379', started: false, stop: async () => undefined };
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = await startRedisServer(port, env);
  } catch {
    throw new DemoSetupError(
      'the demo needs Redis: set REDIS_URL, or start one on 127.0.0.1:6379, or install redis-server so the demo can start its own ' +
        '(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis; or: docker run -p 6379:6379 redis:7)',
    );
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    started: true,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function startRedisServer(port: number, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
    env,
  });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    const deadline = Date.now() + 5000;
    const check = async () => {
      if (await answers('127.0.0.1', port)) resolve();
      else if (Date.now() > deadline || child.exitCode !== null) reject(new Error('redis-server did not start'));
      else setTimeout(() => void check(), 50);
    };
    void check();
  });
  return child;
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface DemoRepo {
  url: string;
  dir: string; // temp root holding everything the demo made
  server: LocalGitServer;
  close(): Promise<void>;
}

/** A bare repository served over smart HTTP, with experiments/ committed to main. */
export async function demoRepo(experimentsDir: string, env0: NodeJS.ProcessEnv = process.env): Promise<DemoRepo> {
  try {
    await run('git', ['--version'], { env: env0 });
  } catch {
    throw new DemoSetupError('the demo needs the git command line (it serves the demo repository with git http-backend)');
  }
  const st = await stat(experimentsDir).catch(() => undefined);
  if (!st?.isDirectory()) throw new DemoSetupError(`${experimentsDir} is not a directory of experiment files (--experiments DIR)`);
  const dir = await mkdtemp(join(tmpdir(), 'faultline-demo-'));
  let server: LocalGitServer | undefined;
  try {
    return await seed(dir, experimentsDir, env0, (s) => (server = s));
  } catch (err) {
    // Nothing the demo started outlives a failed setup.
    await server?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    if (err instanceof DemoSetupError) throw err;
    throw new DemoSetupError(`could not seed the demo repository: ${(err as Error).message.split('\n')[0]}`);
  }
}

async function seed(dir: string, experimentsDir: string, env0: NodeJS.ProcessEnv, started: (s: LocalGitServer) => void): Promise<DemoRepo> {
  const root = join(dir, 'git');
  await mkdir(root, { recursive: true });
  const server = await startLocalGitServer({ root });
  started(server);
  const url = await server.createRepo('experiments');
  const work = join(dir, 'work');
  const env = {
    ...env0,
    GIT_AUTHOR_NAME: 'Faultline demo',
    GIT_AUTHOR_EMAIL: 'demo@localhost',
    GIT_COMMITTER_NAME: 'Faultline demo',
    GIT_COMMITTER_EMAIL: 'demo@localhost',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  await run('git', ['init', '-q', '-b', 'main', work], { env });
  await cp(experimentsDir, join(work, 'experiments'), { recursive: true, filter: (src) => !src.includes('node_modules') });
  const files = await readdir(join(work, 'experiments'));
  if (files.length === 0) throw new DemoSetupError(`no experiment files in ${experimentsDir}`);
  await run('git', ['-C', work, 'add', '-A'], { env });
  await run('git', ['-C', work, 'commit', '-q', '-m', 'Seed the demo experiments'], { env });
  await run('git', ['-C', work, 'push', '-q', url, 'HEAD:refs/heads/main'], { env });
  return {
    url,
    dir,
    server,
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
