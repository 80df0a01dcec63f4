// memory-stress: stress-ng vm workers holding `size` in total (split across workers).
import { inPodDriver, MEMORY_STRESS_SCRIPT } from './inpod.js';
import { durationSeconds, intParam, memoryMiParam } from './params.js';

export const memoryStress = inPodDriver('memory-stress', {
  script: MEMORY_STRESS_SCRIPT,
  netAdmin: false,
  args: ({ params, durationMs }) => {
    const workers = Number(intParam(params, 'workers', 1, 16, 1));
    const perWorker = Math.max(1, Math.floor(memoryMiParam(params) / workers));
    return [String(workers), String(perWorker), durationSeconds(durationMs)];
  },
});
