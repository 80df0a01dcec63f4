// The Grafana dashboard and the Prometheus alert rules only query metrics (and labels) that
// src/metrics.ts registers, so a renamed metric cannot leave an empty panel or a dead alert.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '../../src/metrics.js';
import { sourceFiles } from './api-calls.js';
import { allManifests, DEPLOY } from './manifests.js';
import { references, type Selector } from './promql.js';

interface Query { where: string; expr: string }
interface Series { labels: Set<string> }

/** Every exported series name with the labels it carries (histograms as _bucket/_sum/_count). */
async function exportedSeries(): Promise<Map<string, Series>> {
  const series = new Map<string, Series>();
  for (const m of await registry.getMetricsAsJSON()) {
    const metric = registry.getSingleMetric(m.name) as unknown as { labelNames?: readonly string[] } | undefined;
    const labels = new Set([...(metric?.labelNames ?? []), ...m.values.flatMap((v) => Object.keys(v.labels))]);
    const type = String(m.type); // prom-client types this as an enum but reports 'histogram' etc.
    if (type === 'histogram') {
      series.set(`${m.name}_bucket`, { labels: new Set([...labels, 'le']) });
      series.set(`${m.name}_sum`, { labels });
      series.set(`${m.name}_count`, { labels });
    } else if (type === 'summary') {
      series.set(m.name, { labels: new Set([...labels, 'quantile']) });
      series.set(`${m.name}_sum`, { labels });
      series.set(`${m.name}_count`, { labels });
    } else {
      series.set(m.name, { labels });
    }
  }
  return series;
}

interface Panel { id?: number; title?: string; type?: string; panels?: Panel[]; targets?: { refId?: string; expr?: string }[] }
interface Dashboard { title?: string; panels?: Panel[]; templating?: { list?: { name: string; type: string; query?: unknown; definition?: string }[] } }

/** The queries of a dashboard, each named by panel title and target, rows unfolded. */
export function dashboardQueries(file: string, d: Dashboard): Query[] {
  const out: Query[] = [];
  const walk = (panels: Panel[] | undefined) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (t.expr !== undefined) out.push({ where: `${file} panel "${p.title ?? '?'}" (id ${p.id ?? '?'}) target ${t.refId ?? '?'}`, expr: t.expr });
      walk(p.panels);
    }
  };
  walk(d.panels);
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query ?? v.definition ?? '';
    // label_values(metric{...}, label) / query_result(expr): the metric part is PromQL.
    const inner = /^(?:label_values|query_result)\(\s*(.*?)(?:,\s*\w+)?\s*\)$/s.exec(q.trim())?.[1];
    if (inner) out.push({ where: `${file} variable $${v.name}`, expr: inner });
  }
  return out;
}

function ruleQueries(): { queries: Query[]; recorded: Set<string> } {
  const queries: Query[] = [];
  const recorded = new Set<string>();
  for (const d of allManifests().filter((m) => m.obj.kind === 'PrometheusRule')) {
    for (const g of (d.obj.spec as { groups: { name: string; rules: { alert?: string; record?: string; expr: string | number }[] }[] }).groups) {
      for (const r of g.rules) {
        if (r.record) recorded.add(r.record);
        queries.push({ where: `${d.file} group ${g.name} ${r.alert ? `alert ${r.alert}` : `record ${r.record}`}`, expr: String(r.expr) });
      }
    }
  }
  return { queries, recorded };
}

function dashboards(): { file: string; d: Dashboard }[] {
  const dir = join(DEPLOY, 'grafana');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => ({ file: `deploy/grafana/${f}`, d: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dashboard }));
}

// Quoted string literals anywhere in src/ (the simulator excluded): label values the code can set.
function codeStrings(): Set<string> {
  const out = new Set<string>();
  for (const f of sourceFiles()) for (const m of f.text.matchAll(/'([^'\\\n]*)'|"([^"\\\n]*)"|`([^`$\\\n]*)`/g)) out.add(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** Problems of one query: unknown metrics, labels the metric does not have, values the code never sets. */
function check(q: Query, series: Map<string, Series>, recorded: Set<string>, strings: Set<string>): string[] {
  const problems: string[] = [];
  let refs: ReturnType<typeof references>;
  try {
    refs = references(q.expr);
  } catch (err) {
    return [`${q.where}: cannot read ${JSON.stringify(q.expr)}: ${(err as Error).message}`];
  }
  if (refs.selectors.length === 0) problems.push(`${q.where}: queries no metric`);
  const labelsOf = (s: Selector) => series.get(s.metric)?.labels;
  for (const s of refs.selectors) {
    if (recorded.has(s.metric)) continue;
    const labels = labelsOf(s);
    if (!labels) { problems.push(`${q.where}: unknown metric ${s.metric}`); continue; }
    for (const m of s.matchers) {
      if (!labels.has(m.label)) { problems.push(`${q.where}: ${s.metric} has no label ${m.label}`); continue; }
      // Equality and simple alternations must name values the code can produce.
      const values = m.op === '=' ? [m.value] : m.op === '=~' && /^[\w.-]+(\|[\w.-]+)*$/.test(m.value) ? m.value.split('|') : [];
      for (const v of values) if (!strings.has(v)) problems.push(`${q.where}: ${s.metric}{${m.label}} is never "${v}" in src/`);
    }
  }
  const all = new Set(refs.selectors.flatMap((s) => [...(labelsOf(s) ?? [])]));
  for (const l of refs.groupingLabels) if (!all.has(l) && !refs.selectors.some((s) => recorded.has(s.metric))) problems.push(`${q.where}: no metric in the query has label ${l}`);
  return problems;
}

describe('dashboard and alert queries use the metrics the code exports', async () => {
  const series = await exportedSeries();
  const strings = codeStrings();
  const { queries: rules, recorded } = ruleQueries();
  const panels = dashboards().flatMap(({ file, d }) => dashboardQueries(file, d));

  it('exports the metrics the issue asks for, with process defaults under their standard names', () => {
    for (const name of ['faultline_runs_total', 'faultline_active_faults', 'faultline_run_duration_seconds_bucket', 'faultline_recovery_seconds_bucket',
      'faultline_reconcile_duration_seconds_bucket', 'faultline_guard_blocks_total', 'faultline_webhook_deliveries_total', 'faultline_git_fetch_errors_total',
      'faultline_queue_jobs']) {
      expect(series.has(name), name).toBe(true);
    }
    // prom-client's defaults under the names stock Node.js dashboards query; no faultline_process_ left.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(series.has(name), name).toBe(true);
    }
    expect([...series.keys()].filter((n) => n.startsWith('faultline_process_') || (n.startsWith('faultline_') && /(^|_)(process|nodejs)_/.test(n.slice(10))))).toEqual([]);
    // Faultline's own metrics all carry the faultline_ prefix.
    const own = [...series.keys()].filter((n) => !/^(process|nodejs)_/.test(n));
    expect(own.filter((n) => !n.startsWith('faultline_'))).toEqual([]);
  });

  it('found the queries', () => {
    expect(panels.length).toBeGreaterThanOrEqual(10);
    expect(rules.map((r) => r.where)).toEqual(expect.arrayContaining([expect.stringContaining('FaultlineRunsFailing'), expect.stringContaining('FaultlineReconcileStalled')]));
  });

  it('every Grafana panel query refers to exported metrics and labels', () => {
    expect(panels.flatMap((q) => check(q, series, recorded, strings))).toEqual([]);
  });

  it('every alert and recording rule refers to exported metrics and labels', () => {
    expect(rules.flatMap((q) => check(q, series, recorded, strings))).toEqual([]);
  });

  it('an unknown metric, label or value fails, naming the panel', () => {
    const broken: Dashboard = {
      panels: [{ type: 'row', title: 'Row', panels: [
        { id: 7, title: 'Typo', targets: [{ refId: 'A', expr: 'sum by (fault) (rate(faultline_run_total[5m]))' }] },
        { id: 8, title: 'Bad label', targets: [{ refId: 'B', expr: 'sum(faultline_active_faults{outcome="failed"})' }, { refId: 'C', expr: 'sum by (nope) (faultline_queue_jobs)' }] },
        { id: 9, title: 'Bad value', targets: [{ refId: 'D', expr: 'sum(increase(faultline_runs_total{outcome=~"failed|exploded"}[1h]))' }] },
        { id: 10, title: 'Histogram', targets: [{ refId: 'E', expr: 'histogram_quantile(0.9, sum by (le) (rate(faultline_recovery_seconds_bucket[$__rate_interval]))) / faultline_recovery_seconds' }] },
      ] }],
    };
    const problems = dashboardQueries('x.json', broken).flatMap((q) => check(q, series, recorded, strings));
    expect(problems).toEqual([
      'x.json panel "Typo" (id 7) target A: unknown metric faultline_run_total',
      'x.json panel "Typo" (id 7) target A: no metric in the query has label fault',
      'x.json panel "Bad label" (id 8) target B: faultline_active_faults has no label outcome',
      'x.json panel "Bad label" (id 8) target C: no metric in the query has label nope',
      'x.json panel "Bad value" (id 9) target D: faultline_runs_total{outcome} is never "exploded" in src/',
      'x.json panel "Histogram" (id 10) target E: unknown metric faultline_recovery_seconds',
    ]);
  });
});
