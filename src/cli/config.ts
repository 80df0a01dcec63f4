import { loadConfig, ConfigError } from '../config/index.js';
import type { ControllerConfig } from '../config/types.js';

/** The controller config for a command, or undefined after printing why not (exit code 2). */
export function configOrExit(file: string | undefined): ControllerConfig | undefined {
  try {
    return loadConfig({ file });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exitCode = 2;
    return undefined;
  }
}
