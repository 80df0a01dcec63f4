// The importer registry: one line per foreign format.
import { chaosIoImporter } from './chaosio.js';
import { chaosMeshImporter } from './chaosmesh/index.js';
import { chaosToolkitImporter } from './chaostoolkit.js';
import { litmusImporter } from './litmus.js';
import type { Importer } from './types.js';

export const IMPORTERS: Importer[] = [chaosIoImporter, chaosMeshImporter, litmusImporter, chaosToolkitImporter];

export const SUPPORTED_FORMATS =
  'faultline.dev/v1alpha1 ChaosExperiment, chaos.io/v1 ChaosExperiment, or chaos-mesh.org/v1alpha1 PodChaos/NetworkChaos/StressChaos/Schedule, litmuschaos.io/v1alpha1 ChaosEngine, or a Chaos Toolkit experiment';

export function findImporter(doc: Record<string, unknown>): Importer | undefined {
  return IMPORTERS.find((i) => i.matches(doc.apiVersion, doc.kind, doc));
}
