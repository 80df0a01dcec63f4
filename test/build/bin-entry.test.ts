// src/cli/bin.js's rule: a checkout with tsx installed runs src/ through tsx even when a dist/ build
// exists (tests and `npm run demo` never run a stale build); without tsx it runs dist/cli/main.js,
// saying so on stderr when src/ is there too; with neither it says what to do in one line.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../deploy/manifests.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-bin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'src/cli'), { recursive: true });
mkdirSync(join(dir, 'dist/cli'), { recursive: true });
copyFileSync(join(ROOT, 'src/cli/bin.js'), join(dir, 'src/cli/bin.js'));
writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
const main = join(dir, 'src/cli/main.ts');
const built = join(dir, 'dist/cli/main.js');
const modules = join(dir, 'node_modules');

const bin = () => {
  const r = spawnSync(process.execPath, [join(dir, 'src/cli/bin.js')], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
};

describe('src/cli/bin.js picks src or dist', () => {
  it('with tsx installed it runs src/ through tsx, even beside a (stale) dist/', () => {
    symlinkSync(join(ROOT, 'node_modules'), modules, 'dir');
    writeFileSync(main, "const from: string = 'src';\nconsole.log(from);\n");
    writeFileSync(built, "console.log('dist');\n");
    expect(bin()).toEqual({ code: 0, out: 'src', err: '' });
  });

  it('without tsx it runs dist/ and says so when src/ is there too', () => {
    rmSync(modules);
    mkdirSync(modules);
    const r = bin();
    expect(r.out).toBe('dist');
    expect(r.err).toBe('faultline: tsx is not installed, running the build in dist/ (`npm run build` refreshes it)');
    rmSync(main);
    expect(bin()).toEqual({ code: 0, out: 'dist', err: '' });
  });

  it('with neither it answers in one line and exit 2', () => {
    writeFileSync(main, "console.log('src');\n");
    rmSync(built);
    expect(bin()).toEqual({ code: 2, out: '', err: 'faultline: nothing to run: install the dev dependencies (`npm ci`) or build (`npm run build`)' });
  });
});
