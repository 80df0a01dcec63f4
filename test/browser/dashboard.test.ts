// The dashboard in real headless Chromium (Debian's package, driven by playwright-core; no browser
// download) against a real controller with runs present: the example runs finished and a long
// scale-down active. Checks what is shown, enters the token, aborts all with confirmation, and
// saves screenshots under test-output/.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runs/types.js';
import { call, deploymentReplicas, startApiWorld, TOKEN, waitFor, type ApiWorld } from '../api/helpers.js';

const CHROMIUM = process.env.FAULTLINE_CHROMIUM ?? '/usr/bin/chromium';
const OUT = new URL('../../test-output/', import.meta.url);
const RUN_ONCE = ['cart-container-kill', 'checkout-pod-kill', 'checkout-http-fault', 'frontend-node-cordon', 'gameday-frontend-pod-kill', 'payments-db-partition'];

let w: ApiWorld | undefined;
let browser: Browser | undefined;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. This test needs Debian's chromium package: apt-get update && apt-get install -y chromium (.ci/run installs it), or set FAULTLINE_CHROMIUM to the binary.`,
    );
  }
  await mkdir(OUT, { recursive: true });
  w = await startApiWorld({ short: '2s', overrides: { 'catalog-scale-down': '120s' } });
  const controller = w.controller;
  await waitFor(async () => {
    const { runs } = await controller.runs.list({ limit: 1000 });
    const done = new Set(runs.filter((r) => r.outcome).map((r) => r.experiment));
    return RUN_ONCE.every((n) => done.has(n));
  }, 'example runs to finish', 150_000);
  await waitFor(async () => (await controller.runs.list({ experiment: 'catalog-scale-down', limit: 1 })).runs[0]?.state === 'Running', 'the scale-down to run', 60_000);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await w?.close();
});

/** Text of each cell of the table body's rows. */
async function rows(page: Page, table: string): Promise<string[][]> {
  return page.$$eval(`${table} tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));
}

describe('dashboard', () => {
  it('shows experiments, recent runs and the active fault with a live countdown, and aborts all after confirmation', async () => {
    const world = w!;
    const page = await browser!.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`${msg.text()} ${msg.location().url}`);
    });
    page.on('response', (res) => {
      if (res.status() >= 400) pageErrors.push(`${res.status()} ${res.url()}`);
    });
    await page.goto(world.url, { waitUntil: 'domcontentloaded' });
    expect(await page.title()).toBe('Faultline');

    // Experiments: one row per example, with its state.
    await waitFor(async () => (await page.locator('#experiments tbody tr').count()) >= 13, 'experiment rows', 20_000);
    const experiments = new Map((await rows(page, '#experiments')).map((cells) => [cells[0]!, cells]));
    for (const name of RUN_ONCE) {
      expect(experiments.get(name)?.[2], name).toBe('succeeded');
      expect(experiments.get(name)?.[3], name).toMatch(/^succeeded · /);
    }
    expect(experiments.get('catalog-scale-down')?.[1]).toBe('scale-down');
    expect(experiments.get('catalog-scale-down')?.[2]).toBe('running');
    expect(experiments.get('payments-network-loss')?.[2]).toBe('suspended');
    expect(experiments.get('cart-pod-kill-nightly')?.[4]).not.toBe('—'); // next run time
    expect(experiments.get('checkout-pod-kill')?.[5]).toMatch(/^experiments\/checkout-pod-kill\.yaml:\d+$/);

    // Recent runs, newest first, with outcomes and targets.
    const runs = await rows(page, '#runs');
    expect(runs.length).toBeGreaterThanOrEqual(RUN_ONCE.length + 1);
    const podKill = runs.find((r) => r[1] === 'checkout-pod-kill')!;
    expect(podKill[2]).toBe('succeeded');
    expect(podKill[3]).toMatch(/^checkout-/);
    expect(podKill[0]).toBe('once'); // the occurrence; the full id is the link's label
    expect(runs.find((r) => r[1] === 'catalog-scale-down')?.[2]).toBe('Running');

    // The active fault with a countdown that moves.
    await page.waitForSelector('#active tbody tr', { timeout: 20_000 });
    expect(await page.isHidden('#active-empty')).toBe(true);
    const active = await rows(page, '#active');
    expect(active.map((r) => r[1])).toEqual(['catalog-scale-down']);
    expect(active[0]![2]).toBe('scale-down');
    const first = active[0]![4]!;
    expect(first).toMatch(/^(\d+m \d+s|\d+s)$/);
    await waitFor(async () => (await page.textContent('#active tbody tr .countdown')) !== first, 'the countdown to move', 10_000);

    // A run's timeline with probe results.
    await page.click(`#runs tbody tr:has(td:text-is("checkout-pod-kill")) a`);
    await page.waitForSelector('#run-detail:not([hidden]) #run-timeline li');
    expect(await page.locator('#run-h:focus').count()).toBe(1);
    expect(await page.textContent('#run-h')).toMatch(/^Run checkout-pod-kill\.[0-9a-f]{16}\.once$/);
    const timeline = await page.$$eval('#run-timeline li', (lis) => lis.map((li) => li.textContent ?? ''));
    expect(timeline.some((t) => t.includes('Running'))).toBe(true);
    expect(timeline.at(-1)).toMatch(/Succeeded/);
    const probes = await rows(page, '#run-probes');
    expect(probes.some((p) => p[0] === 'checkout-ready' && p[2] === 'ok')).toBe(true);
    await page.screenshot({ path: new URL('dashboard-active.png', OUT).pathname, fullPage: true });

    // Enter the API token.
    await page.fill('#token', TOKEN);
    await page.click('#token-form button[type=submit]');
    await page.locator('#token-status', { hasText: /saved for this tab/ }).waitFor();

    // Abort all: the dialog does not close on the confirm button until "abort" is typed.
    await page.click('#abort-all');
    expect(await page.isVisible('#abort-dialog')).toBe(true);
    expect(await page.locator('#abort-confirm:focus').count()).toBe(1);
    await page.click('#abort-confirm-button');
    expect(await page.isVisible('#abort-dialog')).toBe(true);
    await page.fill('#abort-confirm', 'abort');
    await page.click('#abort-confirm-button');
    await page.waitForSelector('#abort-dialog', { state: 'hidden' });

    await page.locator('#abort-result', { hasText: /Aborted 1 run\(s\); the kill switch is on/ }).waitFor({ timeout: 20_000 });
    await page.waitForSelector('#kill-switch-banner', { state: 'visible', timeout: 20_000 });
    expect(await page.textContent('#kill-switch-banner')).toMatch(/Kill switch is on/);

    // The API agrees: the run ended Aborted, reverted, and the switch is on.
    const scale = (await world.controller.runs.list({ experiment: 'catalog-scale-down', limit: 1 })).runs[0]!;
    const ended = await waitFor(async () => {
      const r = await call<RunRecord>(`${world.url}/api/runs/${scale.id}`);
      return r.body.outcome ? r.body : undefined;
    }, 'the active run to end', 60_000);
    expect(ended.state).toBe('Aborted');
    expect(ended.reason).toMatch(/kill switch/);
    expect((await call<{ active: boolean }>(`${world.url}/api/kill-switch`)).body.active).toBe(true);
    await waitFor(() => deploymentReplicas(world.world, 'catalog') === 2, 'catalog replicas restored', 30_000);

    // The page follows: no active fault, the experiment shows aborted.
    await page.waitForSelector('#active-empty', { state: 'visible', timeout: 20_000 });
    await page.locator('#experiments tbody tr[data-name="catalog-scale-down"] td', { hasText: /^aborted$/ }).waitFor({ timeout: 20_000 });
    await page.screenshot({ path: new URL('dashboard.png', OUT).pathname, fullPage: true });
    expect(existsSync(new URL('dashboard.png', OUT))).toBe(true);

    // Clearing the switch from the page asks first, then the API shows it off.
    page.once('dialog', (d) => void d.accept());
    await page.click('#clear-kill-switch');
    await page.waitForSelector('#kill-switch-banner', { state: 'hidden', timeout: 20_000 });
    await page.locator('#abort-result', { hasText: 'Kill switch cleared.' }).waitFor();
    expect((await call<{ active: boolean }>(`${world.url}/api/kill-switch`)).body.active).toBe(false);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 180_000);
});
