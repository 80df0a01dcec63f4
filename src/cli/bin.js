#!/usr/bin/env node
// Entry point of the `faultline` command: checks the runtime, then runs the TypeScript CLI
// through tsx so the command works right after `npm ci`, with no build step.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `faultline needs Node.js 22 or newer (this is ${process.version}). ` +
      'Run it through npm (`npm run faultline -- ...` or `npx faultline ...`), which uses the Node 22 ' +
      'that `npm ci` installs into node_modules/.bin.',
  );
  process.exit(1);
}
const { register } = await import('tsx/esm/api');
register();
await import('./main.ts');
