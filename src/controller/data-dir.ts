// The controller's data directory: its Git clones, the status index and the status outbox. It
// persists across restarts (a restart reuses its clones and sends what the outbox still holds),
// one folder per repository and replica slot. A slot is held through a lock file naming the
// holder's pid; a lock whose process is gone is taken over, so the next start of the same
// replica finds its own folder again, and a second process beside it gets the next slot.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface DataDir {
  dir: string; // e.g. <root>/<repo key>/replica-0
  release(): void;
}

const held = new Set<string>(); // lock files this process holds (several controllers in one process)

export function acquireDataDir(root: string, repoUrl: string, branch: string): DataDir {
  const key = createHash('sha256').update(`${repoUrl}\n${branch}`).digest('hex').slice(0, 16);
  const base = join(resolve(root), key);
  mkdirSync(base, { recursive: true });
  for (let slot = 0; ; slot++) {
    const lock = join(base, `replica-${slot}.lock`);
    if (held.has(lock)) continue;
    if (!takeLock(lock)) continue;
    held.add(lock);
    const dir = join(base, `replica-${slot}`);
    mkdirSync(dir, { recursive: true });
    return {
      dir,
      release() {
        if (!held.delete(lock)) return;
        rmSync(lock, { force: true });
      },
    };
  }
}

function takeLock(lock: string): boolean {
  try {
    writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
  // Our own pid in a lock we do not hold: left by an earlier process that had the same pid
  // (pid 1 in a restarted container).
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) return false;
  writeFileSync(lock, `${process.pid}\n`);
  return Number.parseInt(readFileSync(lock, 'utf8'), 10) === process.pid; // another taker wrote last
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
