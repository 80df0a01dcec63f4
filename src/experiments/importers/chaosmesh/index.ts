// Chaos Mesh (chaos-mesh.org/v1alpha1): PodChaos, NetworkChaos, StressChaos, a Schedule of one
// of them (→ a cron schedule), and Workflow (→ a ChaosWorkflow, workflow.ts).
import { CronExpressionParser } from 'cron-parser';
import { foreignDurationMs, ImportBuilder, isObj, nativeDoc, shown, type Obj } from '../common.js';
import type { Importer, ImportResult } from '../types.js';
import { CHAOS_KINDS, importChaos, type ChaosKind } from './chaos.js';
import { importWorkflow } from './workflow.js';
import { parseDuration } from '../../duration.js';

const API = 'chaos-mesh.org/v1alpha1';
const KINDS = [...CHAOS_KINDS, 'Schedule', 'Workflow'];
// The status branch keeps this many runs per experiment (the controller's default).
const RUN_HISTORY_KEPT = 20;

export const chaosMeshImporter: Importer = {
  describe: (doc) => `${API} ${String(doc.kind)}`,
  matches: (apiVersion, kind) => apiVersion === API && typeof kind === 'string' && KINDS.includes(kind),
  import(doc: Obj): ImportResult {
    const b = new ImportBuilder();
    b.onlyKnown(doc, '', ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    const metadata = isObj(doc.metadata) ? doc.metadata : {};
    b.map('/metadata', '/metadata');
    const spec = doc.spec;
    if (!isObj(spec)) {
      b.fail(spec === undefined ? '' : '/spec', 'spec must be a mapping');
      return b.result(undefined);
    }
    if (doc.kind === 'Workflow') return importWorkflow(spec, metadata, b);
    if (doc.kind === 'Schedule') return schedule(spec, metadata, b);
    const parts = importChaos(doc.kind as ChaosKind, spec, '/spec', metadata, b);
    if (b.problems.length || !parts) return b.result(undefined);
    return b.result(nativeDoc(metadata, { ...parts }));
  },
};

function schedule(spec: Obj, metadata: Obj, b: ImportBuilder): ImportResult {
  const fields = ['schedule', 'startingDeadlineSeconds', 'concurrencyPolicy', 'historyLimit', 'type'];
  const type = spec.type;
  const key = typeof type === 'string' ? type[0]!.toLowerCase() + type.slice(1) : undefined;
  b.onlyKnown(spec, '/spec', key ? [...fields, key] : fields, `is not part of a Schedule of ${shown(type)}`);
  if (!(CHAOS_KINDS as readonly string[]).includes(String(type))) {
    b.fail(type === undefined ? '/spec' : '/spec/type', `a Schedule of ${shown(type)} has no Faultline equivalent (supported: ${CHAOS_KINDS.join(', ')})`);
    return b.result(undefined);
  }
  const inner = spec[key!];
  if (!isObj(inner)) {
    b.fail('/spec', `a Schedule of ${String(type)} needs its chaos spec under ${key}`);
    return b.result(undefined);
  }
  const parts = importChaos(type as ChaosKind, inner, `/spec/${key}`, metadata, b);
  b.map('/spec/schedule', '/spec/schedule');
  b.map('/spec/schedule/cron', '/spec/schedule');
  const cron = cronOf(spec.schedule, b);
  if (spec.startingDeadlineSeconds !== undefined && spec.startingDeadlineSeconds !== null) {
    b.fail('/spec/startingDeadlineSeconds', 'startingDeadlineSeconds has no Faultline equivalent (Faultline does not start missed occurrences late)', true);
  }
  const history = spec.historyLimit ?? 1;
  if (typeof history !== 'number' || !Number.isInteger(history) || history < 1) b.fail('/spec/historyLimit', `historyLimit must be a whole number of at least 1, not ${shown(history)}`);
  else if (history > RUN_HISTORY_KEPT) {
    b.fail('/spec/historyLimit', `historyLimit ${history} cannot be honoured: the status branch keeps the last ${RUN_HISTORY_KEPT} runs of each experiment`);
  }
  // Forbid (the default) is what Faultline does: an occurrence that finds the previous run still
  // holding its workload does not inject. Allow is honoured only when runs cannot overlap.
  const policy = spec.concurrencyPolicy ?? 'Forbid';
  if (policy !== 'Forbid' && policy !== 'Allow') b.fail('/spec/concurrencyPolicy', `concurrencyPolicy ${shown(policy)} is not Forbid or Allow`);
  else if (policy === 'Allow' && cron && parts) {
    const gap = shortestGapMs(cron);
    const ms = parseDuration(parts.duration);
    if (gap !== undefined && ms >= gap) {
      b.fail('/spec/concurrencyPolicy', `concurrencyPolicy Allow cannot be honoured: runs of ${parts.duration} overlap at this schedule (every ${Math.round(gap / 1000)}s at the closest), and Faultline never runs one experiment twice at once on a workload; use Forbid`);
    }
  }
  if (b.problems.length || !parts || !cron) return b.result(undefined);
  return b.result(nativeDoc(metadata, { ...parts, schedule: { cron } }));
}

/** A robfig/cron schedule → five-field cron; "@every 2m" becomes "*\/2 * * * *". */
function cronOf(v: unknown, b: ImportBuilder): string | undefined {
  if (typeof v !== 'string' || !v.trim()) {
    b.fail(v === undefined ? '/spec' : '/spec/schedule', 'schedule must be a cron expression or @every <duration>');
    return undefined;
  }
  const text = v.trim();
  const every = /^@every\s+(\S+)$/.exec(text);
  if (!every) return text; // five fields or @hourly/@daily/...: checked like any native cron
  const ms = foreignDurationMs(every[1]);
  const min = ms === undefined ? undefined : ms / 60_000;
  const cron =
    min === undefined || !Number.isInteger(min) || min < 1 ? undefined
    : min === 1 ? '* * * * *'
    : min < 60 && 60 % min === 0 ? `*/${min} * * * *`
    : min % 60 === 0 && min / 60 < 24 && 24 % (min / 60) === 0 ? `0 */${min / 60} * * *`
    : min === 1440 ? '0 0 * * *'
    : undefined;
  if (cron) b.note(`schedule ${cron}: "${text}" on the clock (Chaos Mesh counts from when the object is created)`);
  else {
    b.fail('/spec/schedule', `"${text}" cannot be written as a five-field cron: Faultline schedules in whole minutes that divide an hour (or hours that divide a day)`);
  }
  return cron;
}

function shortestGapMs(cron: string): number | undefined {
  try {
    const it = CronExpressionParser.parse(cron, { currentDate: new Date('2026-01-05T00:00:00Z'), tz: 'UTC' });
    let prev = it.next().getTime();
    let gap = Infinity;
    for (let i = 0; i < 200; i++) {
      const t = it.next().getTime();
      gap = Math.min(gap, t - prev);
      prev = t;
    }
    return gap;
  } catch {
    return undefined; // the native cron check reports it
  }
}
