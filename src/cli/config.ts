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

/** The controller config for a command that does not touch the repository: repo.url may be absent. */
export function toolConfig(file: string | undefined): ControllerConfig {
  try {
    return loadConfig(file ? { file } : {});
  } catch (err) {
    if (err instanceof ConfigError && err.problems.every((p) => p.field === 'repo.url')) {
      return loadConfig({ ...(file ? { file } : {}), env: { ...process.env, FAULTLINE_REPO_URL: 'https://unused.invalid/repo' } });
    }
    throw err;
  }
}
