#!/usr/bin/env node
// Entry point of the `faultline` command. Checks the runtime, then picks what to run:
// - a checkout with tsx installed (npm ci, dev dependencies) runs the TypeScript in src/ through
//   tsx, always, even when a dist/ build exists: a dev checkout and its tests never run a stale build;
// - an install without tsx (npm ci --omit=dev) runs the compiled dist/cli/main.js (`npm run build`).
// The controller image does not use this file: it runs `node dist/cli/main.js` directly.
import { existsSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `faultline needs Node.js 22 or newer (this is ${process.version}). ` +
      'Run it through npm (`npm run faultline -- ...` or `npx faultline ...`), which uses the Node 22 ' +
      'that `npm ci` installs into node_modules/.bin.',
  );
  process.exit(1);
}

const src = new URL('./main.ts', import.meta.url);
const dist = new URL('../../dist/cli/main.js', import.meta.url);
let tsx;
try {
  tsx = await import('tsx/esm/api');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
}
if (tsx && existsSync(src)) {
  tsx.register();
  await import(src.href);
} else if (existsSync(dist)) {
  if (existsSync(src)) console.error('faultline: tsx is not installed, running the build in dist/ (`npm run build` refreshes it)');
  await import(dist.href);
} else {
  console.error('faultline: nothing to run: install the dev dependencies (`npm ci`) or build (`npm run build`)');
  process.exit(2);
}
