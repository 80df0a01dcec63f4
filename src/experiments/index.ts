// The experiments stage: parse, import, validate, normalise and hash experiment files.
export { loadExperimentFiles, type InputFile, type LoadOptions } from './load.js';
export { specHash, canonicalSpec } from './hash.js';
export { parseDuration, formatDuration } from './duration.js';
export { FAULT_CATALOG } from './faults.js';
export { validatePaths, type ValidatePathsOptions } from './walk.js';
export { buildExperimentSchema } from './schema.js';
export { normaliseExperiment } from './normalise.js';
export * from './model.js';
