// scale-down: scales the owning workloads down; revert restores the replicas.
import { defineFault } from '../definition.js';
import { obj } from '../schema-parts.js';

export const scaleDown = defineFault({
  type: 'scale-down',
  scope: 'workload',
  description: 'Scales the workloads owning the selected pods down; revert restores the replicas.',
  docs: 'scales the owning Deployment/StatefulSet; the recorded replica count is restored',
  paramsSchema: obj({ replicas: { type: 'integer', minimum: 0, maximum: 1000, default: 0 } }),
  // It removes ready − replicas pods of each owning workload, whatever the mode chose.
  blastRadius: (params, chosen) => {
    const replicas = typeof params.replicas === 'number' ? params.replicas : 0;
    return chosen.map((b) => {
      const hit = Math.max(0, b.ready - replicas);
      return { ...b, hit, percent: b.ready ? Math.round((hit / b.ready) * 10_000) / 100 : 100 };
    });
  },
  // A budget loses what the scale-down removes, not just the chosen pods (at most its healthy pods).
  disruption: { hit: (pdb, effectiveTotal) => Math.min(pdb.healthy, Math.max(pdb.hit, effectiveTotal)) },
  driver: async () => (await import('./driver.js')).scaleDown,
});
