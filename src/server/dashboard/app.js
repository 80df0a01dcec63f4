// The dashboard: plain DOM, no build step. Reads the JSON API, follows /api/stream for
// live countdowns, and sends abort-all with the saved bearer token. The token lives in this
// tab's sessionStorage and in a SameSite=Strict cookie, because EventSource cannot send headers
// (the server takes the cookie for reads; writes carry the Authorization header).
const $ = (sel) => document.querySelector(sel);
const tokenKey = 'faultline-token';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return node;
}

function headers() {
  const token = sessionStorage.getItem(tokenKey);
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function getJson(url) {
  const res = await fetch(url, { headers: headers() });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    const hint = res.status === 401 ? ' Enter the API token above.' : '';
    throw new Error(`${body.error?.message ?? `${url} answered ${res.status}`}.${hint}`);
  }
  return res.json();
}

function saveToken(token) {
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  if (token) {
    sessionStorage.setItem(tokenKey, token);
    document.cookie = `faultline_token=${encodeURIComponent(token)}; Path=/; SameSite=Strict${secure}`;
  } else {
    sessionStorage.removeItem(tokenKey);
    document.cookie = `faultline_token=; Path=/; Max-Age=0; SameSite=Strict${secure}`;
  }
}

function showTokenStatus() {
  $('#token-status').textContent = sessionStorage.getItem(tokenKey) ? 'Token saved for this tab.' : 'No token saved.';
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '—';
}

// Run ids are `<experiment>.<spec hash>.<occurrence>`; the experiment has its own column, so the
// occurrence (once, manual-…, a scheduled time) is what tells runs apart.
function occurrence(id) {
  const parts = id.split('.');
  return parts.length >= 3 ? parts.slice(2).join('.') : id;
}

function fmtSeconds(ms) {
  if (ms <= 0) return 'ending';
  const s = Math.ceil(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
}

async function loadExperiments() {
  const { experiments } = await getJson('/api/experiments');
  const body = $('#experiments tbody');
  body.replaceChildren(
    ...experiments.map((e) =>
      el(
        'tr',
        { 'data-name': e.name },
        el('td', { class: 'mono' }, e.name),
        el('td', {}, e.fault ?? '—'),
        el('td', { class: `state-${e.state}` }, e.state),
        el('td', {}, e.lastRun ? `${e.lastRun.outcome ?? e.lastRun.state} · ${when(e.lastRun.endedAt ?? e.lastRun.startedAt)}` : '—'),
        el('td', {}, e.nextRun ? when(e.nextRun) : e.schedule ? e.schedule.cron : '—'),
        el('td', { class: 'mono' }, e.line ? `${e.file}:${e.line}` : e.file),
      ),
    ),
  );
}

async function loadRuns() {
  const { runs } = await getJson('/api/runs?limit=25');
  const body = $('#runs tbody');
  body.replaceChildren(
    ...runs.map((r) =>
      el(
        'tr',
        { 'data-run': r.id },
        el('td', { class: 'mono' }, el('a', { href: `#run/${r.id}`, title: r.id, 'aria-label': `Run ${r.id}` }, occurrence(r.id))),
        el('td', {}, r.experiment),
        el('td', { class: `state-${r.outcome ?? 'running'}` }, r.outcome ?? r.state),
        el('td', {}, r.targets.map((t) => t.name).join(', ') || '—'),
        el('td', {}, r.recoveryMs != null ? `${(r.recoveryMs / 1000).toFixed(1)}s` : '—'),
        el('td', {}, when(r.startedAt ?? r.createdAt)),
      ),
    ),
  );
}

// Pictures are drawn by the server from the run's data (src/report/svg.ts); they are parsed as
// SVG documents and put in the page, never as HTML.
async function getSvg(url) {
  const res = await fetch(url, { headers: headers() });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const doc = new DOMParser().parseFromString(await res.text(), 'image/svg+xml');
  const svg = doc.documentElement;
  if (svg.nodeName !== 'svg') throw new Error(`${url} is not an SVG picture`);
  return document.importNode(svg, true);
}

async function loadWorkflows() {
  const { workflows } = await getJson('/api/workflows');
  $('#workflows-empty').hidden = workflows.length > 0;
  $('#workflows').hidden = workflows.length === 0;
  const rows = await Promise.all(
    workflows.map(async (w) => {
      const r = w.lastRun;
      const trend = el('td', { class: 'trend' });
      if (w.trend.length) trend.append(await getSvg(`/api/workflows/${encodeURIComponent(w.name)}/trend.svg`));
      else trend.textContent = '—';
      return el(
        'tr',
        { 'data-name': w.name },
        el('td', { class: 'mono' }, w.name),
        el('td', {}, w.state),
        el('td', { class: `state-${(r?.phase ?? '').toLowerCase()}` }, r ? el('a', { href: `#workflow/${w.name}/${r.id}`, 'aria-label': `Workflow run ${r.id}` }, `${r.phase} · ${when(r.endedAt ?? r.startedAt)}`) : '—'),
        el('td', {}, r ? `${Math.min(r.currentStep + 1, r.totalSteps)}/${r.totalSteps}` : '—'),
        el('td', {}, r ? el('progress', { max: '1', value: String(r.progress), 'aria-label': `${Math.round(r.progress * 100)}%` }) : '—'),
        el('td', {}, r?.score != null ? String(r.score) : '—'),
        trend,
      );
    }),
  );
  $('#workflows tbody').replaceChildren(...rows);
}

let openWorkflow;

async function showWorkflowRun(name, id) {
  const base = `/api/workflows/${encodeURIComponent(name)}`;
  const r = await getJson(`${base}/runs/${encodeURIComponent(id)}`);
  openWorkflow = { name, id };
  $('#workflow-detail').hidden = false;
  $('#workflow-h').textContent = `Workflow ${r.workflow} · run ${r.id}`;
  const rows = [
    ['Phase', r.phase],
    ['Step', `${Math.min(r.currentStep + 1, r.totalSteps)} of ${r.totalSteps}`],
    ['Progress', `${Math.round(r.progress * 100)}%`],
    ['Score', r.score ? `${r.score.value} (${r.score.parts.map((p) => `${p.name} ${p.value} × ${p.weight}`).join(', ')})` : '—'],
    ['Reason', r.reason ?? '—'],
    ['Started', when(r.startedAt)],
    ['Ended', when(r.endedAt)],
  ];
  $('#workflow-summary').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  const [timeline, trend] = await Promise.all([getSvg(`${base}/runs/${encodeURIComponent(id)}/timeline.svg`), getSvg(`${base}/trend.svg`)]);
  $('#workflow-timeline').replaceChildren(timeline);
  $('#workflow-trend').replaceChildren(trend);
  $('#workflow-steps tbody').replaceChildren(
    ...r.steps.map((s) =>
      el('tr', { 'data-step': s.path }, el('td', { class: 'mono' }, s.path), el('td', {}, s.kind), el('td', { class: `state-${s.phase.toLowerCase()}` }, s.phase), el('td', {}, when(s.startedAt)), el('td', {}, when(s.endedAt)), el('td', {}, s.reason ?? '')),
    ),
  );
}

async function openWorkflowRun(name, id) {
  try {
    await showWorkflowRun(name, id);
    $('#workflow-h').focus();
  } catch (err) {
    showError(err);
  }
}

let openRunId;

async function showRun(id) {
  const r = await getJson(`/api/runs/${encodeURIComponent(id)}`);
  openRunId = id;
  $('#run-detail').hidden = false;
  $('#run-h').textContent = `Run ${r.id}`;
  const rows = [
    ['Experiment', r.experiment],
    ['Fault', r.faultType],
    ['State', r.state],
    ['Outcome', r.outcome ?? '—'],
    ['Reason', r.reason ?? '—'],
    ['Targets', r.targets.map((t) => `${t.namespace ?? ''}/${t.name}`).join(', ') || '—'],
    ['Blast radius', r.blastRadius.map((b) => `${b.workload}: ${b.hit}/${b.ready} (${b.percent}%)`).join(', ') || '—'],
    ['Recovery', r.recoveryMs != null ? `${(r.recoveryMs / 1000).toFixed(1)}s` : '—'],
    ['Seed', String(r.seed ?? '—')],
  ];
  $('#run-summary').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  $('#run-timeline').replaceChildren(...r.timeline.map((t) => el('li', {}, `${when(t.at)} — ${t.state}: ${t.message}`)));
  $('#run-trend').replaceChildren(await getSvg(`/api/experiments/${encodeURIComponent(r.experiment)}/trend.svg`).catch((err) => `Trend not available: ${err.message}`));
  $('#run-probes tbody').replaceChildren(
    ...r.probes.map((p) =>
      el('tr', {}, el('td', {}, p.name), el('td', {}, p.phase), el('td', { class: p.ok ? 'ok' : 'bad' }, p.ok ? 'ok' : 'failed'), el('td', {}, String(p.checks)), el('td', {}, String(p.failures)), el('td', {}, p.lastError ?? '')),
    ),
  );
}

/** Opens a run's detail and moves focus there (keyboard and screen-reader users land on it). */
async function openRun(id) {
  try {
    await showRun(id);
    $('#run-h').focus();
  } catch (err) {
    showError(err);
  }
}

function showError(err) {
  $('#load-error').textContent = `Could not load: ${err.message}`;
  $('#load-error').hidden = false;
}

function showKillSwitch(on) {
  $('#kill-switch-banner').hidden = !on;
  $('#clear-kill-switch').hidden = !on;
}

let active = [];
let source;
function renderActive() {
  const now = Date.now();
  $('#active-empty').hidden = active.length > 0;
  $('#active').hidden = active.length === 0;
  $('#active tbody').replaceChildren(
    ...active.map((r) =>
      el(
        'tr',
        { 'data-run': r.id },
        el('td', { class: 'mono' }, el('a', { href: `#run/${r.id}`, title: r.id, 'aria-label': `Run ${r.id}` }, occurrence(r.id))),
        el('td', {}, r.experiment),
        el('td', {}, r.faultType),
        el('td', { class: 'state-running' }, r.state),
        el('td', { class: 'countdown' }, r.endsAt ? fmtSeconds(new Date(r.endsAt).getTime() - now) : '—'),
      ),
    ),
  );
}

const ids = (runs) => runs.map((r) => `${r.id}:${r.state}`).join(',');

function follow() {
  source?.close();
  source = new EventSource('/api/stream');
  source.addEventListener('active', (ev) => {
    const data = JSON.parse(ev.data);
    // A run started, moved on or ended: the tables below change too.
    const changed = ids(active) !== ids(data.active);
    active = data.active;
    showKillSwitch(data.killSwitch);
    renderActive();
    if (changed) void refresh();
  });
}

async function refresh() {
  try {
    await Promise.all([
      loadExperiments(),
      loadRuns(),
      loadWorkflows(),
      openRunId ? showRun(openRunId) : undefined,
      openWorkflow ? showWorkflowRun(openWorkflow.name, openWorkflow.id) : undefined,
    ]);
    $('#load-error').hidden = true;
  } catch (err) {
    showError(err);
  }
}

$('#token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  saveToken($('#token').value.trim());
  $('#token').value = '';
  showTokenStatus();
  follow(); // the stream reconnects with the new cookie
  void refresh();
});

$('#abort-all').addEventListener('click', () => {
  $('#abort-confirm').value = '';
  $('#abort-dialog').returnValue = '';
  $('#abort-dialog').showModal();
  $('#abort-confirm').focus();
});

$('#abort-dialog').addEventListener('close', async () => {
  if ($('#abort-dialog').returnValue !== 'confirm') return;
  const result = $('#abort-result');
  try {
    const res = await fetch('/api/abort', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers() },
      body: JSON.stringify({ reason: $('#abort-reason').value }),
    });
    const body = await res.json().catch(() => ({}));
    result.textContent = res.ok
      ? `Aborted ${body.aborted.length} run(s); the kill switch is on.`
      : `Abort refused: ${body.error?.message ?? res.status}`;
    result.className = res.ok ? '' : 'error';
    if (res.ok) showKillSwitch(true);
  } catch (err) {
    result.textContent = `Abort failed: ${err.message}. Use \`faultline abort --all\` if the controller cannot be reached.`;
    result.className = 'error';
  }
  $('#abort-all').focus();
  await refresh();
});

$('#clear-kill-switch').addEventListener('click', async () => {
  if (!window.confirm('Clear the kill switch? Runs may start again.')) return;
  const result = $('#abort-result');
  try {
    const res = await fetch('/api/kill-switch', { method: 'DELETE', headers: headers() });
    const body = await res.json().catch(() => ({}));
    result.textContent = res.ok ? 'Kill switch cleared.' : `Clearing refused: ${body.error?.message ?? res.status}`;
    result.className = res.ok ? '' : 'error';
    if (res.ok) showKillSwitch(false);
  } catch (err) {
    result.textContent = `Clearing failed: ${err.message}`;
    result.className = 'error';
  }
});

window.addEventListener('hashchange', () => {
  const m = /^#run\/(.+)$/.exec(location.hash);
  if (m) void openRun(decodeURIComponent(m[1]));
  const w = /^#workflow\/([^/]+)\/(.+)$/.exec(location.hash);
  if (w) void openWorkflowRun(decodeURIComponent(w[1]), decodeURIComponent(w[2]));
});

setInterval(renderActive, 1000);
showTokenStatus();
follow();
await refresh();
if (location.hash.startsWith('#run/')) await openRun(decodeURIComponent(location.hash.slice(5)));
const wf = /^#workflow\/([^/]+)\/(.+)$/.exec(location.hash);
if (wf) await openWorkflowRun(decodeURIComponent(wf[1]), decodeURIComponent(wf[2]));
