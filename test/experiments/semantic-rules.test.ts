// Validation rules the JSON Schema cannot express, through the loader a user runs
// (`faultline validate`): each bad file is refused at the field that is wrong, with a message
// that says why, and the nearest good file passes.
import { describe, expect, it } from 'vitest';
import { semanticProblems } from '../../src/experiments/semantic.js';
import { baseDoc, loadDoc, type Doc } from './helpers.js';

/** Problems of the base document after `change`, as "pointer: message" (without the loader's field-path prefix). */
function problems(change: (d: Doc) => void): string[] {
  const d = baseDoc();
  change(d);
  const r = loadDoc(d);
  if (r.problems.length === 0) expect(r.experiments).toHaveLength(1);
  return r.problems.map((p) => `${p.pointer}: ${p.message.replace(/^\S+: /, '')}`);
}
const ok = (change: (d: Doc) => void) => expect(problems(change)).toEqual([]);
const expr = (e: Doc) => (d: Doc) => (d.spec.target.selector.matchExpressions = [e]);

describe('label keys and values', () => {
  it('a label key whose prefix is not a DNS subdomain is refused', () => {
    for (const key of ['Example.com/team', '-bad.com/team', 'bad-.com/team', 'a..b/team', 'under_score.io/team', '/team', `${'a'.repeat(254)}/team`]) {
      expect(problems((d) => (d.metadata.labels = { [key]: 'x' })), key).toEqual([
        `/metadata/labels/${key.replace(/\//g, '~1')}: label key "${key}": the prefix must be a DNS subdomain (lowercase, at most 253 characters)`,
      ]);
    }
  });

  it('a label key with a DNS-subdomain prefix of up to 253 characters is accepted', () => {
    for (const key of ['faultline.dev/team', 'a/team', 'a-b.c-d.example/team', `${'a'.repeat(253)}/team`, '0.io/x', 'a.b.example/x']) ok((d) => (d.metadata.labels = { [key]: 'x' }));
  });

  it('the name part of a label key is 1 to 63 characters, starting and ending with a letter or digit', () => {
    for (const key of ['a', 'A_b.c-D', 'x'.repeat(63), 'example.com/Z9']) ok((d) => (d.metadata.labels = { [key]: 'x' }));
    for (const key of ['x'.repeat(64), 'team-', '.team', 'example.com/', 'te am']) {
      const got = problems((d) => (d.metadata.labels = { [key]: 'x' }));
      expect(got, key).toHaveLength(1);
      expect(got[0], key).toContain(`label key "${key}": the name must be 1-63 characters`);
    }
  });

  it('a label value is empty or up to 63 characters, starting and ending with a letter or digit', () => {
    for (const v of ['', 'a', 'a.b_c-D', 'v'.repeat(63)]) ok((d) => (d.metadata.labels = { team: v }));
    for (const v of ['v'.repeat(64), '-a', 'a-', 'a b']) {
      expect(problems((d) => (d.metadata.labels = { team: v })), v).toEqual([
        `/metadata/labels/team: label value "${v}" must be at most 63 characters of letters, digits, "-", "_" or ".", starting and ending with a letter or digit`,
      ]);
    }
  });

  it('a bad key and a bad value in one label are both reported', () => {
    expect(problems((d) => (d.metadata.labels = { 'Bad.io/x': '-v' }))).toHaveLength(2);
  });
});

describe('selectors', () => {
  it('Exists and DoesNotExist take no values', () => {
    for (const operator of ['Exists', 'DoesNotExist']) {
      expect(problems(expr({ key: 'tier', operator, values: ['a'] }))).toEqual([`/spec/target/selector/matchExpressions/0/values: operator ${operator} takes no values`]);
      ok(expr({ key: 'tier', operator }));
      ok(expr({ key: 'tier', operator, values: [] }));
    }
  });

  it('In and NotIn need at least one value', () => {
    for (const operator of ['In', 'NotIn']) {
      const want = [`/spec/target/selector/matchExpressions/0/values: operator ${operator} needs a non-empty values list`];
      expect(problems(expr({ key: 'tier', operator }))).toEqual(want);
      expect(problems(expr({ key: 'tier', operator, values: [] }))).toEqual(want);
      ok(expr({ key: 'tier', operator, values: ['web'] }));
    }
  });

  it('the key and every value of an expression are checked, at their own position', () => {
    expect(problems(expr({ key: 'Bad.io/tier', operator: 'Exists' }))[0]).toMatch(/^\/spec\/target\/selector\/matchExpressions\/0\/key: label key "Bad.io\/tier": the prefix/);
    expect(problems(expr({ key: 'tier', operator: 'In', values: ['ok', 'not ok'] }))).toEqual(['/spec/target/selector/matchExpressions/0/values/1: label value "not ok" must be at most 63 characters of letters, digits, "-", "_" or ".", starting and ending with a letter or digit']);
  });

  it('a selector with only matchExpressions is not empty; one with neither is', () => {
    ok((d) => (d.spec.target.selector = { matchExpressions: [{ key: 'app', operator: 'In', values: ['checkout'] }] }));
    expect(problems((d) => (d.spec.target.selector = { matchLabels: {}, matchExpressions: [] }))).toEqual(['/spec/target/selector: selector is empty: it would select every pod in the namespace; give matchLabels or matchExpressions']);
  });
});

describe('modes and the caps they must respect', () => {
  it('a percent mode above maxBlastRadiusPercent is refused; at the cap it passes', () => {
    expect(problems((d) => (d.spec.target.mode = { type: 'percent', value: 60 }))).toEqual(['/spec/target/mode/value: mode percent 60 is above safety.maxBlastRadiusPercent 50']);
    ok((d) => (d.spec.target.mode = { type: 'percent', value: 50 }));
  });

  it('a fixed mode asking for more pods than maxTargets is refused; exactly maxTargets passes', () => {
    expect(problems((d) => (d.spec.target.mode = { type: 'fixed', value: 4 }))).toEqual(['/spec/target/mode/value: mode fixed asks for 4 pods but safety.maxTargets is 3']);
    ok((d) => (d.spec.target.mode = { type: 'fixed', value: 3 }));
  });

  it('mode all is refused under a blast-radius cap below 100%, and allowed at 100%', () => {
    expect(problems((d) => (d.spec.target.mode = { type: 'all' }))).toEqual(['/spec/target/mode/type: mode all hits 100% of the pods, above safety.maxBlastRadiusPercent 50']);
    ok((d) => {
      d.spec.target.mode = { type: 'all' };
      d.spec.safety.maxBlastRadiusPercent = 100;
    });
    ok((d) => {
      d.spec.target.mode = { type: 'all' };
      delete d.spec.safety;
    });
  });

  it('one and all take no value; fixed needs a whole number of pods; percent needs 1..100', () => {
    expect(problems((d) => (d.spec.target.mode = { type: 'one', value: 1 }))).toContain('/spec/target/mode/value: mode one takes no value');
    ok((d) => (d.spec.target.mode = { type: 'one' }));
    expect(problems((d) => (d.spec.target.mode = { type: 'fixed' }))).toContain('/spec/target/mode/value: mode fixed needs a value (how many pods, at least 1)');
    ok((d) => (d.spec.target.mode = { type: 'fixed', value: 1 }));
    expect(problems((d) => (d.spec.target.mode = { type: 'percent' }))).toContain('/spec/target/mode/value: mode percent needs a value between 1 and 100');
    ok((d) => (d.spec.target.mode = { type: 'percent', value: 1 }));
    // the same rules hold for a document the schema has not shaped (another caller)
    const sem = (mode: Doc) => semanticProblems({ spec: { target: { mode } } }).map((p) => `${p.pointer}: ${p.message}`);
    expect(sem({ type: 'all', value: 3 })).toEqual(['/spec/target/mode/value: mode all takes no value']);
    for (const value of [0, 1.5, -1]) expect(sem({ type: 'fixed', value })).toEqual(['/spec/target/mode/value: mode fixed: value must be a whole number of pods, at least 1']);
    expect(sem({ type: 'fixed', value: 2 })).toEqual([]);
    for (const value of [0, 0.5, 100.5, 101]) expect(sem({ type: 'percent', value })).toEqual(['/spec/target/mode/value: mode percent: value must be between 1 and 100']);
    for (const value of [1, 100, 33.3]) expect(sem({ type: 'percent', value })).toEqual([]);
  });
});

describe('schedules', () => {
  it('a cron needs exactly five fields; @-shorthands are accepted', () => {
    expect(problems((d) => (d.spec.schedule = { cron: '0 3 * *' }))).toEqual(['/spec/schedule/cron: cron "0 3 * *" must have 5 fields (minute hour day-of-month month day-of-week), it has 4']);
    expect(problems((d) => (d.spec.schedule = { cron: '0 0 3 * * *' }))[0]).toContain('it has 6');
    ok((d) => (d.spec.schedule = { cron: '@daily' }));
    ok((d) => (d.spec.schedule = { cron: ' 0 3 * * 1-5 ' }));
  });

  it('a cron with an impossible value is refused with the parser\'s reason', () => {
    expect(problems((d) => (d.spec.schedule = { cron: '61 3 * * *' }))[0]).toMatch(/^\/spec\/schedule\/cron: cron "61 3 \* \* \*" is not valid: /);
  });

  it('a cron in a valid time zone is checked in that zone; an unknown zone is named', () => {
    ok((d) => (d.spec.schedule = { cron: '30 2 * * *', timezone: 'Europe/Berlin' }));
    expect(problems((d) => (d.spec.schedule = { cron: '30 2 * * *', timezone: 'Mars/Olympus' }))).toEqual(['/spec/schedule/timezone: "Mars/Olympus" is not an IANA time zone (e.g. Europe/Berlin, UTC)']);
  });
});

describe('steady-state probes', () => {
  const probes = (...ps: Doc[]) => (d: Doc) => (d.spec.steadyState.probes = ps);
  const http = (name: string, extra: Doc = {}) => ({ name, http: { url: 'http://checkout.shop.svc/healthz', expectStatus: [200], timeout: '1s', ...extra } });

  it('two probes with one name are refused at the second', () => {
    expect(problems(probes(http('up'), http('down'), http('up')))).toEqual(['/spec/steadyState/probes/2/name: probe name "up" is already used by probe 0']);
    ok(probes(http('a'), http('b')));
  });

  it('a probe timeout longer than its interval is refused; equal is fine; the default interval is 5s', () => {
    expect(problems(probes({ ...http('p', { timeout: '6s' }) }))).toEqual(['/spec/steadyState/probes/0/http/timeout: timeout 6s is longer than the probe interval 5s']);
    ok(probes({ ...http('p', { timeout: '5s' }) }));
    expect(problems(probes({ ...http('p', { timeout: '3s' }), interval: '2s' }))).toEqual(['/spec/steadyState/probes/0/http/timeout: timeout 3s is longer than the probe interval 2s']);
    ok(probes({ ...http('p', { timeout: '2s' }), interval: '2s' }));
  });

  it('a prometheus probe timeout is held to the same rule', () => {
    const prom = { name: 'err-rate', prometheus: { url: 'http://prom.monitoring.svc:9090', query: 'up', op: '<', threshold: 1, timeout: '9s' }, interval: '4s' };
    expect(problems(probes(prom))).toEqual(['/spec/steadyState/probes/0/prometheus/timeout: timeout 9s is longer than the probe interval 4s']);
  });

  it('a bodyMatch that is not a regular expression is refused', () => {
    expect(problems(probes(http('p', { bodyMatch: '(' })))[0]).toMatch(/^\/spec\/steadyState\/probes\/0\/http\/bodyMatch: bodyMatch is not a valid regular expression: /);
    ok(probes(http('p', { bodyMatch: '^ok$' })));
  });

  it('a probe with no kind says it has none', () => {
    const got = semanticProblems({ spec: { steadyState: { probes: [{ name: 'p' }] } } });
    expect(got).toEqual([{ pointer: '/spec/steadyState/probes/0', message: 'probe needs exactly one of http, prometheus, kubernetes (has none)' }]);
    const two = semanticProblems({ spec: { steadyState: { probes: [{ name: 'p', http: {}, prometheus: {} }] } } });
    expect(two[0]!.message).toBe('probe needs exactly one of http, prometheus, kubernetes (has http, prometheus)');
  });

  it('a probe URL that does not parse is refused', () => {
    const got = semanticProblems({ spec: { steadyState: { probes: [{ name: 'p', http: { url: 'http://' } }] } } });
    expect(got).toEqual([{ pointer: '/spec/steadyState/probes/0/http/url', message: '"http://" is not a valid URL' }]);
  });
});

describe('http-fault', () => {
  it('an http-fault with neither abort nor delay is refused', () => {
    const got = semanticProblems({ spec: { fault: { type: 'http-fault', params: { virtualService: 'vs' } } } });
    expect(got).toEqual([{ pointer: '/spec/fault/params', message: 'http-fault needs at least one of abort, delay' }]);
    expect(semanticProblems({ spec: { fault: { type: 'http-fault', params: { virtualService: 'vs', delay: {} } } } })).toEqual([]);
    expect(semanticProblems({ spec: { fault: { type: 'http-fault', params: { virtualService: 'vs', abort: {} } } } })).toEqual([]);
    expect(semanticProblems({ spec: { fault: { type: 'pod-kill', params: {} } } })).toEqual([]);
  });
});

describe('fault parameter rules of one fault type', () => {
  it('container-kill with SIGKILL is refused at the signal, with why', () => {
    const got = semanticProblems({ spec: { fault: { type: 'container-kill', params: { container: 'c', signal: 'SIGKILL' } } } });
    expect(got).toHaveLength(1);
    expect(got[0]!.pointer).toBe('/spec/fault/params/signal');
    expect(got[0]!.message).toMatch(/^SIGKILL cannot be delivered from inside the pod/);
    expect(semanticProblems({ spec: { fault: { type: 'container-kill', params: { container: 'c', signal: 'SIGTERM' } } } })).toEqual([]);
  });
});

describe('a document the schema has not shaped never crashes the semantic checks', () => {
  // Another caller (an importer, the API) may hand over anything; a wrong type is the schema's
  // problem to report, so the semantic checks skip it instead of throwing or double-reporting.
  it('null and non-object parts are skipped', () => {
    for (const doc of [null, 'x', [], { spec: null }, { spec: 'x' }, { metadata: null, spec: { target: null, steadyState: null, fault: null, schedule: null, safety: null } }]) {
      expect(semanticProblems(doc), JSON.stringify(doc)).toEqual([]);
    }
    expect(semanticProblems({ spec: { target: { selector: { matchLabels: { app: 'a' }, matchExpressions: [null, 'x'] } }, steadyState: { probes: [null, 'x'] } } })).toEqual([]);
  });

  it('values of the wrong type are left to the schema', () => {
    const doc = {
      metadata: { labels: { team: 5 } },
      spec: {
        target: { selector: { matchLabels: { app: 'a' }, matchExpressions: [{ key: 5, operator: 'In', values: [5] }] }, mode: { type: 'fixed', value: '3' } },
        schedule: { cron: '0 3 * * *', timezone: 5 },
        steadyState: { probes: [{ name: 5, http: { url: 5, bodyMatch: 5, timeout: 5 } }] },
        safety: { maxTargets: '1' },
      },
    };
    expect(semanticProblems(doc)).toEqual([]);
    expect(semanticProblems({ spec: { target: { mode: { type: 'percent', value: '500' } }, safety: { maxBlastRadiusPercent: '10' } } })).toEqual([]);
    expect(semanticProblems({ spec: { target: { mode: { type: 'all' } }, safety: { maxBlastRadiusPercent: '10' } } })).toEqual([]);
    expect(semanticProblems({ spec: { target: { mode: { type: 'percent', value: 60 } }, safety: { maxTargets: 1 } } })).toEqual([]);
  });

  it('a label value or expression value that is not text is not judged as text (String([\'a b\']) would be a bad value)', () => {
    expect(semanticProblems({ metadata: { labels: { team: ['a b'] } } })).toEqual([]);
    expect(semanticProblems({ spec: { target: { selector: { matchExpressions: [{ key: 'app', operator: 'In', values: [['a b'], { x: 1 }] }] } } } })).toEqual([]);
  });

  it('an operator the schema refuses is not also told it takes no values', () => {
    expect(semanticProblems({ spec: { target: { selector: { matchExpressions: [{ key: 'app', operator: 'Gt', values: ['1'] }] } } } })).toEqual([]);
  });

  it('two probes whose names are not text are not a duplicate name; a bodyMatch that is not text is not compiled', () => {
    const probes = [{ name: 5, http: { url: 'http://a.svc/' } }, { name: 5, http: { url: 'http://a.svc/', bodyMatch: ['('] } }];
    expect(semanticProblems({ spec: { steadyState: { probes } } })).toEqual([]);
  });

  it('a mode value or a cap that is not a number is compared by neither rule', () => {
    const cases = [
      { mode: { type: 'fixed', value: '3' }, safety: { maxTargets: 1 } },
      { mode: { type: 'fixed', value: 3 }, safety: { maxTargets: '1' } },
      { mode: { type: 'percent', value: '500' }, safety: { maxBlastRadiusPercent: 10 } },
      { mode: { type: 'percent', value: 50 }, safety: { maxBlastRadiusPercent: '10' } },
    ];
    for (const c of cases) expect(semanticProblems({ spec: { target: { mode: c.mode }, safety: c.safety } }), JSON.stringify(c)).toEqual([]);
  });

  it('a fixed pod count is not held to the percent cap, nor a percent to maxTargets', () => {
    expect(semanticProblems({ spec: { target: { mode: { type: 'fixed', value: 60 } }, safety: { maxBlastRadiusPercent: 10, maxTargets: 100 } } })).toEqual([]);
    expect(semanticProblems({ spec: { target: { mode: { type: 'percent', value: 60 } }, safety: { maxBlastRadiusPercent: 100, maxTargets: 1 } } })).toEqual([]);
  });

  it('a bad label key is pointed at as a key, with "~" and "/" escaped in the pointer', () => {
    expect(semanticProblems({ metadata: { labels: { 'a~b': 'x' } } })).toEqual([
      { pointer: '/metadata/labels/a~0b', message: expect.stringContaining('label key "a~b": the name must be'), key: true },
    ]);
    expect(semanticProblems({ metadata: { labels: { 'Bad.io/x': 'ok' } } })[0]).toMatchObject({ pointer: '/metadata/labels/Bad.io~1x', key: true });
  });

  it('a cron with several spaces between fields is five fields', () => {
    ok((d) => (d.spec.schedule = { cron: '0  3 *   * *' }));
  });
});
