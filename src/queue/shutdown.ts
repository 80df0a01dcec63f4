// Graceful shutdown: on SIGTERM/SIGINT close everything in order (workers first: they stop
// taking jobs and let active runs finish), then exit. A second signal exits at once; BullMQ's
// stalled check hands any run cut short that way to another replica's orphan path.
import { silentLogger, type Logger } from '../log.js';

export interface Closable {
  close(): Promise<void>;
}

export function closeOnSignals(
  closers: Closable[],
  opts: { log?: Logger; signals?: NodeJS.Signals[]; exit?: (code: number) => void } = {},
): () => void {
  const log = opts.log ?? silentLogger;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      exit(1);
      return;
    }
    closing = true;
    log.info({ signal }, 'shutting down: waiting for active runs');
    void (async () => {
      let code = 0;
      for (const c of closers) {
        try {
          await c.close();
        } catch (err) {
          code = 1;
          log.error({ err }, 'error during shutdown');
        }
      }
      log.info('shutdown complete');
      exit(code);
    })();
  };
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
