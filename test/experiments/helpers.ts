// Shared helpers for the experiments tests: a valid base document and a one-file loader.
import { stringify } from 'yaml';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import type { LoadResult } from '../../src/experiments/model.js';

export type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary shapes

export function baseDoc(): Doc {
  return {
    apiVersion: 'faultline.dev/v1alpha1',
    kind: 'ChaosExperiment',
    metadata: { name: 'checkout-pod-kill', labels: { team: 'payments' } },
    spec: {
      description: 'kill some checkout pods',
      fault: { type: 'pod-kill', params: { gracePeriodSeconds: 0 } },
      target: { namespace: 'shop', selector: { matchLabels: { app: 'checkout' } }, mode: { type: 'percent', value: 25 } },
      duration: '30s',
      steadyState: {
        probes: [
          { name: 'checkout-ready', kubernetes: { namespace: 'shop', kind: 'Deployment', name: 'checkout', minReadyReplicas: 2 } },
          { name: 'checkout-http', http: { url: 'http://checkout.shop.svc/healthz', expectStatus: [200], timeout: '1s' } },
        ],
      },
      safety: { maxBlastRadiusPercent: 50, maxTargets: 3 },
    },
  };
}

export function loadText(text: string | Uint8Array, path = 'exp.yaml'): LoadResult {
  const content = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  return loadExperimentFiles([{ path, content }]);
}

export function loadDoc(doc: Doc, path = 'exp.yaml'): LoadResult {
  return loadText(stringify(doc), path);
}
