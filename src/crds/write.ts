// Writes deploy/crds/ from the schemas (`npx tsx src/crds/write.ts`); test/deploy/crds.test.ts
// checks that the committed files are what this writes.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { experimentCrd, workflowCrd } from './index.js';

export const CRD_DIR = fileURLToPath(new URL('../../deploy/crds/', import.meta.url));

const HEADER = '# Generated from schemas/*.json by `npx tsx src/crds/write.ts`; do not edit (a test compares).\n';

/** File name → text, as committed in deploy/crds/. */
export function crdFiles(): Record<string, string> {
  return {
    'chaosexperiments.yaml': HEADER + stringify(experimentCrd(), { lineWidth: 0 }),
    'chaosworkflows.yaml': HEADER + stringify(workflowCrd(), { lineWidth: 0 }),
    'kustomization.yaml': [
      '# The CustomResourceDefinitions (cluster-scoped): `kubectl apply -k deploy/crds` before deploy/base.',
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      '  - chaosexperiments.yaml',
      '  - chaosworkflows.yaml',
      '',
    ].join('\n'),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [name, text] of Object.entries(crdFiles())) writeFileSync(CRD_DIR + name, text);
  console.log(`wrote ${CRD_DIR}`);
}
