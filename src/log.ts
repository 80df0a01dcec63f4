import { pino, type Logger } from 'pino';

// One structured line per event. Child loggers carry `experiment` and `runId`.
export function createLogger(name = 'faultline', level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

export const silentLogger: Logger = pino({ level: 'silent' });
export type { Logger };
