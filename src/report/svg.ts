// Pictures as plain SVG text, drawn on the server from a run's data: a workflow run's timeline
// and a score / recovery-time trend. The same text is committed to the status branch, linked from
// the PR comment and inlined by the dashboard, so no build step and no script is needed to see it.
// Every mark carries data-* attributes with the values it was drawn from (the browser test reads
// them back against the record).
import type { WorkflowRunRecord } from '../workflows/run-types.js';

/** One finished run in a trend: newest last. */
export interface TrendEntry {
  runId: string;
  at: string; // when it ended (or started)
  outcome: string;
  score?: number; // 0..100
  recoveryMs?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (x: number) => (Math.round(x * 10) / 10).toString();
const ms = (iso: string | undefined) => (iso ? Date.parse(iso) : NaN);

const PHASE_FILL: Record<string, string> = {
  Succeeded: '#2e9e5b', Failed: '#d64545', Aborted: '#e08a1e', Running: '#3b82f6', Pending: '#9aa5b1', Skipped: '#c7ced6',
};

function seconds(msv: number): string {
  const s = Math.round(msv / 1000);
  return s >= 120 ? `${Math.round(s / 60)}m` : `${s}s`;
}

/**
 * A workflow run as a timeline: one row per step (nested steps indented) with a bar from its
 * start to its end, every fault window shaded over the whole plot, the workflow probes' rounds
 * as dots on a lane below and the assertion samples plotted against their threshold.
 * `now` ends the bars of steps still running.
 */
export function workflowTimelineSvg(r: WorkflowRunRecord, now: Date = new Date()): string {
  const rowH = 22;
  const labelW = 190;
  const plotW = 560;
  const top = 34;
  const steps = r.steps;
  const t0 = ms(r.startedAt ?? r.createdAt);
  const ends = [ms(r.endedAt), ...steps.map((s) => ms(s.endedAt)), ...r.assertions.map((a) => ms(a.at)), ...r.probes.map((p) => ms(p.at))].filter(Number.isFinite);
  const t1 = Math.max(t0 + 1000, ...(r.endedAt ? ends : [...ends, now.getTime()]));
  const x = (t: number) => labelW + ((Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0)) * plotW;
  const probeY = top + steps.length * rowH + 14;
  const assertTop = probeY + 22;
  const assertH = 60;
  const height = assertTop + assertH + 28;
  const width = labelW + plotW + 20;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="fl-timeline" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="11" data-run="${esc(r.id)}" data-t0="${new Date(t0).toISOString()}" data-t1="${new Date(t1).toISOString()}" data-plot-x="${labelW}" data-plot-width="${plotW}">`);
  out.push(`<title>${esc(`${r.workflow} run ${r.id}: ${r.phase}`)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="8" y="18" font-size="13" font-weight="bold">${esc(`${r.workflow} · ${r.phase} · step ${Math.min(r.currentStep + 1, r.totalSteps)}/${r.totalSteps}${r.score ? ` · score ${r.score.value}` : ''}`)}</text>`);
  // fault windows first, so the bars stay on top
  for (const s of steps) {
    if (!s.faultWindow) continue;
    const a = x(ms(s.faultWindow.from));
    const b = x(s.faultWindow.to ? ms(s.faultWindow.to) : t1);
    out.push(`<rect class="fault-window" data-step="${esc(s.path)}" x="${n(a)}" y="${top - 4}" width="${n(Math.max(1, b - a))}" height="${steps.length * rowH + 4}" fill="#d64545" fill-opacity="0.08"/>`);
  }
  // time axis: start, middle, end
  for (const f of [0, 0.5, 1]) {
    const tx = labelW + f * plotW;
    out.push(`<line x1="${n(tx)}" y1="${top - 6}" x2="${n(tx)}" y2="${assertTop + assertH}" stroke="#e3e7eb"/>`);
    out.push(`<text x="${n(tx)}" y="${height - 10}" text-anchor="middle" fill="#52606d">+${seconds(f * (t1 - t0))}</text>`);
  }
  steps.forEach((s, i) => {
    const depth = s.path.split('/').length - 2;
    const y = top + i * rowH;
    out.push(`<text x="${8 + depth * 14}" y="${y + 14}" fill="#1f2933">${esc(s.name)}<title>${esc(`${s.path} (${s.kind}) ${s.phase}${s.reason ? `: ${s.reason}` : ''}`)}</title></text>`);
    const start = ms(s.startedAt);
    if (!Number.isFinite(start)) return; // never started: a label without a bar
    const end = Number.isFinite(ms(s.endedAt)) ? ms(s.endedAt) : now.getTime();
    const a = x(start);
    const b = x(end);
    const fill = PHASE_FILL[s.phase] ?? '#9aa5b1';
    out.push(`<rect class="step-bar" data-step="${esc(s.path)}" data-kind="${s.kind}" data-phase="${s.phase}" data-start="${new Date(start).toISOString()}" data-end="${new Date(end).toISOString()}" x="${n(a)}" y="${y + 3}" width="${n(Math.max(2, b - a))}" height="${rowH - 8}" rx="3" fill="${fill}" fill-opacity="${s.kind === 'parallel' || s.kind === 'pause' ? 0.45 : 0.9}"><title>${esc(`${s.name}: ${s.phase}, ${seconds(end - start)}`)}</title></rect>`);
    for (const p of s.probes ?? []) {
      out.push(`<circle class="step-probe" data-step="${esc(s.path)}" data-ok="${p.ok}" cx="${n(x(ms(p.at)))}" cy="${y + rowH / 2 - 1}" r="3" fill="${p.ok ? '#fff' : '#d64545'}" stroke="#1f2933"/>`);
    }
  });
  out.push(`<text x="8" y="${probeY + 4}" fill="#52606d">probes</text>`);
  for (const p of r.probes) {
    out.push(`<circle class="probe" data-probe="${esc(p.name)}" data-at="${p.at}" data-ok="${p.ok}" cx="${n(x(ms(p.at)))}" cy="${probeY}" r="4" fill="${p.ok ? '#2e9e5b' : '#d64545'}"><title>${esc(`${p.name} ${p.ok ? 'ok' : 'failed'} at ${p.at}`)}</title></circle>`);
  }
  // assertions: values and thresholds share one 0..max scale
  out.push(`<text x="8" y="${assertTop + 12}" fill="#52606d">assertions</text>`);
  const vals = r.assertions.flatMap((a) => [a.threshold, ...(a.value === null ? [] : [a.value])]);
  const vmax = Math.max(1, ...vals) * 1.15; // headroom: a value at the top stays inside the lane
  const y = (v: number) => assertTop + assertH - (v / vmax) * assertH;
  out.push(`<rect x="${labelW}" y="${assertTop}" width="${plotW}" height="${assertH}" fill="none" stroke="#e3e7eb"/>`);
  for (const th of new Set(r.assertions.map((a) => a.threshold))) {
    out.push(`<line class="threshold" data-threshold="${th}" x1="${labelW}" x2="${labelW + plotW}" y1="${n(y(th))}" y2="${n(y(th))}" stroke="#52606d" stroke-dasharray="4 3"/>`);
  }
  for (const a of r.assertions) {
    const cy = a.value === null ? assertTop + assertH : y(a.value);
    out.push(`<circle class="assertion" data-name="${esc(a.name)}" data-at="${a.at}" data-value="${a.value ?? ''}" data-ok="${a.ok}" cx="${n(x(ms(a.at)))}" cy="${n(cy)}" r="4" fill="${a.ok ? '#2e9e5b' : '#d64545'}"><title>${esc(`${a.name}: ${a.value ?? 'n/a'} ${a.operator} ${a.threshold} ${a.ok ? 'ok' : 'failed'}${a.reason ? ` (${a.reason})` : ''}`)}</title></circle>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/**
 * The last runs' scores (line, 0..100 on the left) and recovery times (bars, 0..max on the
 * right), one point and one bar per run, oldest left.
 */
export function trendSvg(name: string, entries: TrendEntry[]): string {
  const width = 360;
  const height = 140;
  const left = 34;
  const right = 40;
  const top = 22;
  const plotH = 90;
  const plotW = width - left - right;
  const slot = entries.length ? plotW / entries.length : plotW;
  const cx = (i: number) => left + slot * (i + 0.5);
  const sy = (v: number) => top + plotH - (v / 100) * plotH;
  const rmax = Math.max(1000, ...entries.map((e) => e.recoveryMs ?? 0));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="fl-trend" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="10" data-name="${esc(name)}" data-runs="${entries.length}" data-plot-top="${top}" data-plot-height="${plotH}">`);
  out.push(`<title>${esc(`${name}: score and recovery time over the last ${entries.length} runs`)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="4" y="13" font-size="11" font-weight="bold">${esc(name)}</text>`);
  out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#e3e7eb"/>`);
  out.push(`<text x="${left - 4}" y="${top + 4}" text-anchor="end" fill="#3b82f6">100</text><text x="${left - 4}" y="${top + plotH}" text-anchor="end" fill="#3b82f6">0</text>`);
  out.push(`<text x="${width - right + 4}" y="${top + 4}" fill="#9a6b1e">${seconds(rmax)}</text><text x="${width - right + 4}" y="${top + plotH}" fill="#9a6b1e">0s</text>`);
  if (entries.length === 0) out.push(`<text x="${left + plotW / 2}" y="${top + plotH / 2}" text-anchor="middle" fill="#52606d">no finished runs yet</text>`);
  entries.forEach((e, i) => {
    if (e.recoveryMs === undefined) return;
    const h = (e.recoveryMs / rmax) * plotH;
    out.push(`<rect class="trend-recovery" data-run="${esc(e.runId)}" data-recovery-ms="${e.recoveryMs}" x="${n(cx(i) - slot * 0.3)}" y="${n(top + plotH - h)}" width="${n(slot * 0.6)}" height="${n(h)}" fill="#e0a84e" fill-opacity="0.45"><title>${esc(`${e.runId}: recovered in ${seconds(e.recoveryMs)}`)}</title></rect>`);
  });
  const scored = entries.map((e, i) => ({ e, i })).filter(({ e }) => e.score !== undefined);
  if (scored.length > 1) out.push(`<polyline class="trend-line" fill="none" stroke="#3b82f6" stroke-width="1.5" points="${scored.map(({ e, i }) => `${n(cx(i))},${n(sy(e.score!))}`).join(' ')}"/>`);
  for (const { e, i } of scored) {
    out.push(`<circle class="trend-point" data-run="${esc(e.runId)}" data-score="${e.score}" data-outcome="${esc(e.outcome)}" cx="${n(cx(i))}" cy="${n(sy(e.score!))}" r="3.5" fill="${e.outcome === 'succeeded' || e.outcome === 'Succeeded' ? '#3b82f6' : '#d64545'}"><title>${esc(`${e.runId} (${e.at}): score ${e.score}, ${e.outcome}`)}</title></circle>`);
  }
  out.push(`<text x="${left}" y="${height - 8}" fill="#3b82f6">● score</text><text x="${left + 60}" y="${height - 8}" fill="#9a6b1e">▮ recovery time</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
