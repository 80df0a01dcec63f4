// Controller processes for the crash tests: spawn, wait for the listening URL, kill, clean up.
import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './harness.js';

export interface Proc {
  child: ChildProcess;
  url: string;
  spawnedAt: number;
  readyAt: number;
  /** When the process printed `starting <ms>` (its modules loaded), if it did. */
  startingAt(): number | undefined;
  output(): string;
}

export const children: ChildProcess[] = [];

export function exited(c: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve(c.exitCode) : c.once('exit', (code) => resolve(code))));
}

/** SIGTERMs (then SIGKILLs) every child still running. */
export async function stopChildren(): Promise<void> {
  for (const c of children.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill('SIGTERM');
    const gone = await Promise.race([exited(c).then(() => true), new Promise((r) => setTimeout(() => r(false), 20_000))]);
    if (!gone) c.kill('SIGKILL');
  }
}

/** Spawns `node <args>` and waits for its HTTP URL (the `ready` line or the `controller started` log line). */
export async function spawnController(args: string[], env: Record<string, string>): Promise<Proc> {
  const spawnedAt = Date.now();
  const child = spawn('node_modules/.bin/node', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const url = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`controller exited with ${child.exitCode}:\n${out.slice(-4000)}`);
    const ready = /^ready (http\S+)$/m.exec(out)?.[1];
    if (ready) return ready;
    for (const line of out.split('\n')) {
      if (!line.includes('controller started')) continue;
      const u = (JSON.parse(line) as { url?: string }).url;
      if (u) return u;
    }
    return undefined;
  }, 'controller listening', 60_000).catch((err: unknown) => {
    if (child.exitCode !== null) throw err;
    throw new Error(`${(err as Error).message}\n${out.slice(-4000)}`);
  });
  const startingAt = () => {
    const m = /^starting (\d+)$/m.exec(out);
    return m ? Number(m[1]) : undefined;
  };
  return { child, url, spawnedAt, readyAt: Date.now(), startingAt, output: () => out };
}
