// Poll loop around a GitSource: syncs every `intervalMs` and on demand. One sync at a time;
// triggers that arrive while a sync runs collapse into exactly one more sync afterwards.
import type { Logger } from '../log.js';
import type { GitSource, SourceSnapshot } from './types.js';

export interface Poller {
  /** Sync now (or right after the running sync); resolves when a sync that started after this call has finished. */
  trigger(): Promise<void>;
  /** Stops the timer and waits for a running sync to finish. */
  stop(): Promise<void>;
}

export interface PollerOptions {
  log?: Logger;
  onError?: (err: unknown) => void;
}

export function createPoller(
  source: GitSource & { readonly nextRetryAt?: number | undefined },
  intervalMs: number,
  onSnapshot: (s: SourceSnapshot) => void | Promise<void>,
  opts: PollerOptions = {},
): Poller {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let emitted: string | undefined;

  const once = async () => {
    try {
      const snap = await source.sync();
      // Unchanged heads are not news; the first snapshot and every new revision are.
      if (snap.revision !== emitted || snap.changed.length > 0 || snap.deleted.length > 0) {
        emitted = snap.revision;
        await onSnapshot(snap);
      }
    } catch (err) {
      if (opts.onError) opts.onError(err);
      else opts.log?.warn({ err }, 'poll failed');
    }
  };

  const schedule = () => {
    if (stopped || intervalMs <= 0) return;
    clearTimeout(timer);
    // While the source backs off, wait for its retry time rather than the poll interval.
    const wait = Math.max(intervalMs, (source.nextRetryAt ?? 0) - Date.now());
    timer = setTimeout(() => void trigger(), wait);
    timer.unref();
  };

  const trigger = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    clearTimeout(timer);
    running = (async () => {
      do {
        again = false;
        await once();
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
      schedule();
    });
    return running;
  };

  schedule();
  return {
    trigger,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
