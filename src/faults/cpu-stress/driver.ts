// cpu-stress: stress-ng CPU workers in the pod's cgroup, from an ephemeral container.
import { inPodDriver } from '../inpod.js';
import { STRESS_STARTED, STRESS_UNDO, heldScript } from '../inpod-scripts.js';
import { intParam } from '../params.js';

/** cpu-stress: $4 WORKERS, $5 LOAD_PCT */
export const CPU_STRESS_SCRIPT = heldScript(
  'WORKERS="$1"; LOAD="$2"; STRESS=""',
  STRESS_UNDO,
  `stress-ng --temp-path /tmp --cpu "$WORKERS" --cpu-load "$LOAD" --timeout "\${DURATION}s" 2>>"$ERR" &
${STRESS_STARTED}`,
);

export const cpuStress = inPodDriver('cpu-stress', {
  script: CPU_STRESS_SCRIPT,
  cleanable: false, // stress-ng ends by itself (--timeout)
  refuseHostNetwork: true,
  args: ({ params }) => [intParam(params, 'workers', 1, 64, 1), intParam(params, 'load', 1, 100, 100)],
});
