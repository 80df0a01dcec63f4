// The built controller runs with plain Node 22 and the production dependencies only: the build
// goes to a temp directory beside package.json, package-lock.json and schemas/ (what the image's
// runtime stage holds), `npm ci --omit=dev` installs there, and the real commands run with `node`.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../deploy/manifests.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const app = mkdtempSync(join(tmpdir(), 'faultline-prod-'));

function run(cmd: string, args: string[], cwd = app) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_ENV: 'production', NODE_OPTIONS: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr, error: r.error };
}

describe('the build runs without dev dependencies', () => {
  beforeAll(() => {
    const build = run(process.execPath, [join(ROOT, 'scripts/build.mjs'), join(app, 'dist')], ROOT);
    expect(build.code, build.err + build.out).toBe(0);
    for (const f of ['package.json', 'package-lock.json', 'schemas']) cpSync(join(ROOT, f), join(app, f), { recursive: true });
    cpSync(join(ROOT, 'experiments'), join(app, 'experiments'), { recursive: true });
    const ci = run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline']);
    expect(ci.code, ci.err).toBe(0);
  }, 240_000);
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it('installs no dev dependency (no tsx, no compiler, no test runner)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22);
    // Every package the lockfile marks dev-only is absent (some devDependencies, e.g. typescript, are
    // also needed by a production dependency and stay, without the dev flag).
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages).filter(([path, p]) => path && p.dev).map(([path]) => path);
    expect(devOnly).toEqual(expect.arrayContaining(['node_modules/tsx', 'node_modules/vitest', 'node_modules/eslint', 'node_modules/node']));
    expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
    for (const dev of ['tsx', 'vitest', 'esbuild', 'node']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'commander'))).toBe(true);
    expect(existsSync(join(app, 'src'))).toBe(false);
  });

  it('`node dist/cli/main.js --version` prints the version', () => {
    const r = run(process.execPath, ['dist/cli/main.js', '--version']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(pkg.version);
  });

  it('`node dist/cli/main.js validate experiments/` validates the examples and finds a broken file', () => {
    const ok = run(process.execPath, ['dist/cli/main.js', 'validate', 'experiments/']);
    expect(ok.code, ok.err).toBe(0);
    expect(`${ok.out}${ok.err}`.trim()).toMatch(/^\d+ experiments(, \d+ workflows?)? valid$/);
    writeFileSync(join(app, 'experiments', 'zz-broken.yaml'), 'apiVersion: faultline.dev/v1alpha1\nkind: ChaosExperiment\nmetadata: { name: broken }\nspec:\n  fault: { type: pod-kill }\n  duration: soon\n');
    const bad = run(process.execPath, ['dist/cli/main.js', 'validate', 'experiments/']);
    expect(bad.code).toBe(1);
    expect(`${bad.out}${bad.err}`).toMatch(/zz-broken\.yaml:\d+:\d+: .*duration/);
  });
});
