// memory-stress: stress-ng vm workers holding `size` in total (stress-ng splits --vm-bytes across them).
import { inPodDriver } from '../inpod.js';
import { STRESS_STARTED, STRESS_UNDO, heldScript } from '../inpod-scripts.js';
import { intParam, memoryMiParam } from '../params.js';

/** memory-stress: $4 WORKERS, $5 MiB in total (stress-ng splits --vm-bytes across its workers) */
export const MEMORY_STRESS_SCRIPT = heldScript(
  'WORKERS="$1"; SIZE="$2"; STRESS=""',
  STRESS_UNDO,
  `stress-ng --temp-path /tmp --vm "$WORKERS" --vm-bytes "\${SIZE}m" --vm-keep --timeout "\${DURATION}s" 2>>"$ERR" &
${STRESS_STARTED}`,
);

export const memoryStress = inPodDriver('memory-stress', {
  script: MEMORY_STRESS_SCRIPT,
  cleanable: false, // stress-ng ends by itself (--timeout)
  refuseHostNetwork: true,
  args: ({ params }) => [intParam(params, 'workers', 1, 16, 1), String(memoryMiParam(params))],
});
