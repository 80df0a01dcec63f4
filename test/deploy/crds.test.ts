// The CRDs in deploy/crds are generated from schemas/*.json (committed = generated), are
// structural as apiextensions.k8s.io/v1 requires, and carry defaults equal to what normalise fills.
// (They are validated against the Kubernetes OpenAPI model with the rest of deploy/ in manifests.test.ts.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allCrds } from '../../src/crds/index.js';
import { structuralProblems, toStructural } from '../../src/crds/structural.js';
import { crdFiles } from '../../src/crds/write.js';
import { DEPLOY } from './manifests.js';

type Obj = Record<string, unknown>;
const schemaOf = (crd: Obj) => ((((crd.spec as Obj).versions as Obj[])[0]!.schema as Obj).openAPIV3Schema as Obj);

describe('deploy/crds', () => {
  it('the committed files are what src/crds/write.ts writes (run it after changing a schema)', () => {
    for (const [name, text] of Object.entries(crdFiles())) expect(readFileSync(join(DEPLOY, 'crds', name), 'utf8'), name).toBe(text);
  });

  it('each CRD is structural: a type everywhere, no $ref, free-form params preserved', () => {
    for (const crd of allCrds()) {
      const schema = schemaOf(crd);
      expect(structuralProblems(schema), String((crd.metadata as Obj).name)).toEqual([]);
      expect(JSON.stringify(schema)).not.toMatch(/"\$ref"|"if"|"then"|"const"|"uniqueItems"|"\(\?!/);
    }
    const spec = (schemaOf(allCrds()[0]!).properties as Obj).spec as { properties: { fault: { properties: { params: Obj } } } };
    expect(spec.properties.fault.properties.params).toEqual({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  });

  it('the status subresource and the printer columns', () => {
    const [exp, wf] = allCrds() as Obj[];
    const v = ((exp!.spec as Obj).versions as Obj[])[0]!;
    expect(v.subresources).toEqual({ status: {} });
    expect((v.additionalPrinterColumns as { jsonPath: string }[]).map((c) => c.jsonPath)).toEqual([
      '.spec.fault.type', '.spec.target.namespace', '.status.lastRun.state', '.status.lastRun.startedAt', '.status.score', '.metadata.creationTimestamp',
    ]);
    expect((((wf!.spec as Obj).versions as Obj[])[0]!.subresources)).toEqual({ status: {} });
  });

  it('the structural check finds what the API server refuses', () => {
    expect(structuralProblems({ type: 'object', properties: { a: { properties: { b: { type: 'string' } } }, c: { type: 'array' }, d: { $ref: '#/x', type: 'string' } } })).toEqual([
      'openAPIV3Schema.properties[a].type: Required value: must not be empty for specified object fields',
      'openAPIV3Schema.properties[c].items: Required value: must be specified',
      'openAPIV3Schema.properties[d].$ref: Forbidden: $ref is not supported',
    ]);
    expect(structuralProblems({ type: 'object', properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } } })).toEqual([
      'openAPIV3Schema.properties[metadata].properties[labels]: Forbidden: must not be specified',
    ]);
    // a union type has no structural form
    expect(() => toStructural({ type: ['string', 'number'] })).toThrow(/union/);
  });
});

describe('the CRD check of manifests.test.ts can fail', () => {
  it('a misspelled schema keyword deep in a CRD is an unknown field', async () => {
    const { validateObject } = await import('./schema.js');
    const crd = structuredClone(allCrds()[0]!) as Obj;
    const spec = (schemaOf(crd).properties as Obj).spec as { properties: { duration: Obj } };
    spec.properties.duration.maxLenght = 3;
    expect(await validateObject(crd)).toEqual([{ path: '/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/duration/maxLenght', message: 'unknown field' }]);
  });
});
