export { loadConfig, ConfigError, formatProblem, DEFAULTS, type ConfigProblem, type LoadConfigOptions } from './load.js';
export { parseDuration } from './duration.js';
export type { ControllerConfig, TimeWindow } from './types.js';
