// One duration syntax across the product (500ms, 30s, 5m, 1h30m): the experiments stage owns it.
export { parseDuration, DURATION_PATTERN } from '../experiments/duration.js';
