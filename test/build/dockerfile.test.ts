// The controller Dockerfile builds what `npm run build` builds and ships only the build output:
// read from the file itself, so a change to the build (script, inputs, entry point) that the image
// does not follow fails here, without docker on the machine.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDocs, ROOT } from '../deploy/manifests.js';

interface Instr { op: string; args: string; line: number }
interface Stage { name: string; from: string; instrs: Instr[] }

/** Splits a Dockerfile into stages of instructions (continuation lines joined, comments dropped). */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let l = lines[i]!.trim();
    if (l === '' || l.startsWith('#')) continue;
    while (l.endsWith('\\') && i + 1 < lines.length) l = `${l.slice(0, -1).trim()} ${lines[++i]!.trim()}`;
    const m = /^(\w+)\s+(.*)$/.exec(l);
    if (!m) throw new Error(`Dockerfile:${start}: cannot read ${JSON.stringify(l)}`);
    const instr = { op: m[1]!.toUpperCase(), args: m[2]!, line: start };
    if (instr.op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instr.args);
      stages.push({ name: f?.[2] ?? `#${stages.length}`, from: f?.[1] ?? instr.args, instrs: [] });
    } else if (stages.length) {
      stages.at(-1)!.instrs.push(instr);
    }
  }
  return stages;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };

/** What is wrong with a Dockerfile's stages against this repository's build. */
export function dockerfileProblems(text: string): string[] {
  const problems: string[] = [];
  const stages = parseDockerfile(text);
  const runs = (s: Stage | undefined) => (s?.instrs ?? []).filter((i) => i.op === 'RUN').map((i) => i.args);
  const build = stages.find((s) => runs(s).some((r) => /\bnpm run build\b/.test(r)));
  const runtime = stages.at(-1);
  if (!build) problems.push('no stage runs `npm run build`');
  if (!runtime || runtime === build) return [...problems, 'no runtime stage after the build stage'];

  // The build stage: all dependencies, the same build script, and every input that script reads.
  if (build) {
    if (!runs(build).some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev|--production/.test(r))) problems.push(`stage ${build.name}: installs no dev dependencies (npm ci) before building`);
    const copied = build.instrs.filter((i) => i.op === 'COPY').flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const input of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'src']) {
      if (!copied.includes(input)) problems.push(`stage ${build.name}: does not copy ${input}, which the build reads`);
    }
  }
  if (pkg.scripts.build !== 'node scripts/build.mjs') problems.push(`package.json scripts.build is ${JSON.stringify(pkg.scripts.build)}, not what the image expects`);

  // The runtime stage: only dist/, production node_modules, package.json and schemas/; no installs.
  const allowed = new Map<string, (i: Instr) => boolean>([
    ['dist', (i) => build !== undefined && i.args.includes(`--from=${build.name}`) && /\/dist\s/.test(`${i.args} `)],
    ['node_modules', (i) => {
      const from = /--from=(\S+)/.exec(i.args)?.[1];
      const src = stages.find((s) => s.name === from);
      return src !== undefined && runs(src).some((r) => /\bnpm ci\b.*--omit=dev/.test(r)) && !runs(src).some((r) => /\bnpm run build\b/.test(r));
    }],
    ['package.json', (i) => !i.args.includes('--from=')],
    ['schemas', (i) => !i.args.includes('--from=')],
  ]);
  const seen = new Set<string>();
  for (const i of runtime.instrs) {
    if (i.op === 'RUN' && /\bnpm (ci|install|i)\b/.test(i.args)) problems.push(`Dockerfile:${i.line}: the runtime stage installs packages`);
    if (i.op === 'ADD') problems.push(`Dockerfile:${i.line}: the runtime stage uses ADD`);
    if (i.op !== 'COPY') continue;
    const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    const what = parts.slice(0, -1).map((p) => p.replace(/\/$/, '').split('/').at(-1)!);
    for (const w of what) {
      const ok = allowed.get(w);
      if (!ok) problems.push(`Dockerfile:${i.line}: the runtime stage copies ${w} (only dist, production node_modules, package.json, schemas)`);
      else if (!ok(i)) problems.push(`Dockerfile:${i.line}: the runtime stage copies ${w} from the wrong place`);
      else seen.add(w);
    }
  }
  for (const w of allowed.keys()) if (!seen.has(w)) problems.push(`the runtime stage does not copy ${w}`);

  const last = (op: string) => runtime.instrs.filter((i) => i.op === op).at(-1);
  const user = last('USER')?.args.split(':')[0];
  if (!user || user === 'root' || user === '0') problems.push(`the runtime stage runs as ${user ?? 'root (no USER)'}`);
  else if (!/^\d+$/.test(user)) problems.push(`USER ${user}: use a numeric uid, so runAsNonRoot can verify it`);
  if (!runtime.instrs.some((i) => i.op === 'RUN' && /apt-get install\b.*\bgit\b/.test(i.args))) {
    problems.push('the runtime stage has no git (the controller would fetch with isomorphic-git, the slow path)');
  }
  const hc = last('HEALTHCHECK');
  if (!hc || !/\/healthz/.test(hc.args)) problems.push('the runtime stage has no HEALTHCHECK on /healthz');
  const entry = last('ENTRYPOINT')?.args ?? '';
  if (!/"node",\s*"dist\/cli\/main\.js"/.test(entry)) problems.push(`ENTRYPOINT ${entry || '(none)'} does not run node dist/cli/main.js`);
  if (/\btsx\b/.test(text.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n'))) problems.push('the Dockerfile uses tsx');
  const env = runtime.instrs.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
  const dataDir = /FAULTLINE_DATA_DIR=(\S+)/.exec(env)?.[1];
  if (!dataDir) problems.push('the runtime stage sets no FAULTLINE_DATA_DIR');
  else if (!runtime.instrs.some((i) => i.op === 'VOLUME' && i.args.includes(dataDir))) problems.push(`FAULTLINE_DATA_DIR ${dataDir} is not a VOLUME`);
  return problems;
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

describe('the controller Dockerfile', () => {
  it('has build, production-dependency and runtime stages that match `npm run build`', () => {
    expect(parseDockerfile(dockerfile).map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    expect(dockerfileProblems(dockerfile)).toEqual([]);
  });

  it('a Dockerfile that ships sources, runs as root, installs dev tools or skips the healthcheck fails', () => {
    const bad = dockerfile
      .replace('COPY schemas ./schemas', 'COPY schemas ./schemas\nCOPY src ./src')
      .replace('USER 10001:10001', 'USER root')
      .replace(/HEALTHCHECK[^\n]*\\\n[^\n]*\n/, '')
      .replace('npm ci --omit=dev', 'npm ci');
    const problems = dockerfileProblems(bad);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^Dockerfile:\d+: the runtime stage copies src \(only dist/),
      expect.stringMatching(/^Dockerfile:\d+: the runtime stage copies node_modules from the wrong place$/),
      'the runtime stage does not copy node_modules',
      'the runtime stage runs as root',
      'the runtime stage has no HEALTHCHECK on /healthz',
    ]));
    expect(problems).toHaveLength(5);
    expect(dockerfileProblems(dockerfile.replace('RUN npm run build', 'RUN npx tsc'))).toContain('no stage runs `npm run build`');
    expect(dockerfileProblems(dockerfile.replace(/RUN apt-get update[^\n]*\\\n[^\n]*\\\n[^\n]*\n/, ''))).toEqual([
      'the runtime stage has no git (the controller would fetch with isomorphic-git, the slow path)',
    ]);
    expect(dockerfileProblems(dockerfile.replace('"dist/cli/main.js"', '"src/cli/bin.js"'))).toEqual([expect.stringMatching(/^ENTRYPOINT .* does not run node dist\/cli\/main\.js$/)]);
  });

  it('the Deployment runs this image as its version, non-root, read-only, the data dir on an emptyDir', () => {
    const dep = loadDocs('deploy/base/deployment.yaml')[0]!.obj as {
      spec: { template: { spec: { securityContext: { runAsNonRoot: boolean; runAsUser: number }; volumes: { name: string; emptyDir?: object }[];
        containers: { name: string; image: string; env: { name: string; value?: string }[]; securityContext: { readOnlyRootFilesystem: boolean }; volumeMounts: { name: string; mountPath: string }[] }[] } } };
    };
    const pod = dep.spec.template.spec;
    const c = pod.containers.find((x) => x.name === 'controller')!;
    expect(c.image).toBe(`ghcr.io/faultline-dev/faultline:${pkg.version}`);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    const dataDir = c.env.find((e) => e.name === 'FAULTLINE_DATA_DIR')?.value;
    expect(dataDir, 'FAULTLINE_DATA_DIR').toBeTruthy();
    const mount = c.volumeMounts.find((m) => dataDir === m.mountPath || dataDir!.startsWith(`${m.mountPath}/`));
    expect(mount, `a volume mounted at ${dataDir}`).toBeTruthy();
    expect(pod.volumes.find((v) => v.name === mount!.name)?.emptyDir).toBeDefined();
    expect(c.volumeMounts.some((m) => m.mountPath === '/tmp')).toBe(true);
  });
});
