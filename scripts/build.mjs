// `npm run build [-- OUTDIR]`: compiles src/ to dist/ (tsconfig.build.json; OUTDIR instead when
// given, used by test/build) and copies the files the code reads
// beside itself at run time (the dashboard's static files, the simulator's topologies), so
// `node dist/cli/main.js` works without src/. dist/ is cleaned first: no module deleted from src/
// survives in it.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Non-TypeScript files under src/ that modules load by path (relative to src/). */
export const ASSETS = ['server/dashboard', 'sim/topologies'];

const out = resolve(root, process.argv[2] ?? 'dist');
rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit', cwd: root });
for (const a of ASSETS) cpSync(join(root, 'src', a), join(out, a), { recursive: true });
