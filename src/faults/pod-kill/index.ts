// pod-kill: deletes the chosen pods; their controllers recreate them.
import { defineFault } from '../definition.js';
import { obj } from '../schema-parts.js';

export const podKill = defineFault({
  type: 'pod-kill',
  scope: 'pods',
  description: 'Deletes the selected pods; their controllers recreate them.',
  docs: 'deletes the chosen pods; their controller recreates them (recovery time is measured). `respectPdb: true` kills through the Eviction API, so the API server enforces PodDisruptionBudgets: a refused eviction (429) fails the run naming the budget and that pod. Default `false`: pod-kill stands for an involuntary loss, which budgets do not prevent (the PDB guard still checks them before injecting)',
  paramsSchema: obj({
    gracePeriodSeconds: { type: 'integer', minimum: 0, maximum: 3600, default: 0 },
    // Absent means false: pod-kill stands for an involuntary loss (a crash), which no budget
    // prevents; the PDB guard still checks the budgets before injecting. true: the API server
    // enforces them. No schema `default` on purpose: normalisation would write it into every
    // pod-kill spec and change the spec hash of experiments that already ran (they would run again).
    respectPdb: {
      type: 'boolean',
      description: 'kill through the Eviction API so the API server enforces PodDisruptionBudgets; a refused eviction fails the run for that pod (absent: false)',
    },
  }),
  // Killed pods must be gone before their workload counts as recovered.
  instant: { replacesPods: true },
  driver: async () => (await import('./driver.js')).podKill,
});
