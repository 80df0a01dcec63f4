import { loadConfig, ConfigError, formatProblem } from '../config/index.js';
import { CliError, EXIT } from './fail.js';
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

/** Stands in for repo.url when a command that does not read the repository has none. */
export const NO_REPO_URL = 'https://unused.invalid/repo';

/** The controller config for a command that does not touch the repository: repo.url may be absent. */
export function toolConfig(file: string | undefined): ControllerConfig {
  try {
    return loadConfig(file ? { file } : {});
  } catch (err) {
    if (err instanceof ConfigError && err.problems.every((p) => p.field === 'repo.url')) {
      return loadConfig({ ...(file ? { file } : {}), env: { ...process.env, FAULTLINE_REPO_URL: NO_REPO_URL } });
    }
    throw err;
  }
}

/** toolConfig for a command action: a bad config is a CliError (exit 2) with every problem. */
export function commandConfig(file: string | undefined): ControllerConfig {
  try {
    return toolConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`invalid config: ${err.problems.map(formatProblem).join('; ')}`, EXIT.usage);
    throw err;
  }
}
