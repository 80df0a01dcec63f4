// Runs a Faultline injector on real Linux the way a container runtime would run the ephemeral
// container the controller wrote: its exact argv, under the uid, capabilities and no_new_privs its
// securityContext gives it (setpriv), with the image's shell (busybox sh, as deploy/agent is
// Alpine) and tools, its workingDir, its env, a private /tmp, inside network namespaces joined by
// a veth pair (ip netns). Needs root; the tests skip with a printed reason otherwise.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1EphemeralContainer } from '@kubernetes/client-node';

export const IS_ROOT = process.getuid?.() === 0;
export const DOCKERFILE = new URL('../../deploy/agent/Dockerfile', import.meta.url);

export interface ImageModel { base: string; shell: 'busybox'; user: number; workdir: string; packages: string[]; setcap: boolean }

/** What deploy/agent/Dockerfile gives the injector. */
export function imageModel(text = readFileSync(DOCKERFILE, 'utf8')): ImageModel {
  const lines = text.split('\n').filter((l) => !l.trim().startsWith('#'));
  const body = lines.join('\n');
  const base = /^FROM\s+(\S+)/m.exec(body)?.[1] ?? '';
  if (!base.startsWith('alpine:')) throw new Error(`the harness models an Alpine (busybox) image, the Dockerfile has ${base}`);
  const user = Number(/^USER\s+(\d+)/m.exec(body)?.[1] ?? 0);
  const workdir = /^WORKDIR\s+(\S+)/m.exec(body)?.[1] ?? '/';
  const packages = /apk add[^\n]*?--no-cache\s+([^\n&\\]+)/.exec(body)?.[1]?.trim().split(/\s+/) ?? [];
  return { base, shell: 'busybox', user, workdir, packages, setcap: /\bsetcap\b/.test(body) };
}

export function run(cmd: string, args: string[], opts: { input?: string } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}

export function must(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Debian packages the tests need; a printed reason when one is missing. */
export function missingTools(): string[] {
  const need = ['ip', 'tc', 'iptables', 'stress-ng', 'busybox', 'setpriv', 'unshare', 'nsenter'];
  return need.filter((t) => run('sh', ['-c', `command -v ${t}`]).code !== 0);
}

export function skipReason(): string | undefined {
  if (!IS_ROOT) return 'not root: network namespaces, setpriv and iptables need root (CI runs as root)';
  const missing = missingTools();
  if (missing.length) return `missing tools: ${missing.join(', ')} (.ci/run installs them)`;
  return undefined;
}

const which = (t: string) => must('sh', ['-c', `command -v ${t}`]).trim();

/** A bin directory with what the Alpine image has: busybox applets and the apk packages' tools. */
export function imageBin(image: ImageModel): string {
  // not under /tmp: the container's private /tmp is mounted over it
  const dir = mkdtempSync('/var/tmp/fl-bin-');
  chmodSync(dir, 0o755);
  const busybox = which('busybox');
  for (const applet of ['sh', 'sleep', 'cat', 'grep', 'tr', 'tail', 'date', 'printf', 'echo', 'kill', 'setsid', 'true']) symlinkSync(busybox, join(dir, applet));
  const tools: Record<string, string[]> = { iproute2: ['tc', 'ip'], iptables: ['iptables'], ip6tables: ['ip6tables'], 'stress-ng': ['stress-ng'] };
  for (const p of image.packages) for (const t of tools[p] ?? []) symlinkSync(which(t), join(dir, t));
  return dir;
}

export interface NetPair { pod: string; peer: string; podIp: string; peerIp: string; otherIp: string; close(): void }

/** Two network namespaces joined by a veth pair named eth0 on both sides; the peer has a second address. */
export function netPair(tag: string, subnet: number): NetPair {
  const pod = `fl-pod-${tag}`;
  const peer = `fl-peer-${tag}`;
  for (const ns of [pod, peer]) run('ip', ['netns', 'del', ns]);
  must('ip', ['netns', 'add', pod]);
  must('ip', ['netns', 'add', peer]);
  must('ip', ['link', 'add', `flp${tag}`, 'netns', pod, 'type', 'veth', 'peer', 'name', `flq${tag}`, 'netns', peer]);
  const inNs = (ns: string, ...a: string[]) => must('ip', ['netns', 'exec', ns, ...a]);
  inNs(pod, 'ip', 'link', 'set', `flp${tag}`, 'name', 'eth0');
  inNs(peer, 'ip', 'link', 'set', `flq${tag}`, 'name', 'eth0');
  const podIp = `10.231.${subnet}.1`;
  const peerIp = `10.231.${subnet}.2`;
  const otherIp = `10.232.${subnet}.2`;
  inNs(pod, 'ip', 'addr', 'add', `${podIp}/24`, 'dev', 'eth0');
  inNs(peer, 'ip', 'addr', 'add', `${peerIp}/24`, 'dev', 'eth0');
  inNs(peer, 'ip', 'addr', 'add', `${otherIp}/24`, 'dev', 'eth0');
  for (const ns of [pod, peer]) {
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
  }
  inNs(pod, 'ip', 'route', 'add', `10.232.${subnet}.0/24`, 'dev', 'eth0');
  return { pod, peer, podIp, peerIp, otherIp, close: () => { run('ip', ['netns', 'del', pod]); run('ip', ['netns', 'del', peer]); } };
}

/** TCP servers in a namespace (node, so no extra tool); resolves once they listen. */
export async function listen(ns: string, ports: number[]): Promise<ChildProcess> {
  const code = `const net=require('net');let n=0;for(const p of ${JSON.stringify(ports)})net.createServer(s=>{s.on('error',()=>{});s.end('ok')}).listen(p,'0.0.0.0',()=>{if(++n===${ports.length})console.log('up')});`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('up')) resolve(); });
    child.once('exit', (c) => reject(new Error(`listener exited ${c}`)));
  });
  return child;
}

/** Can `ns` open a TCP connection to ip:port within 1.5 s? (bash /dev/tcp, as a client would) */
export function connects(ns: string, ip: string, port: number): boolean {
  return run('ip', ['netns', 'exec', ns, 'timeout', '1.5', 'bash', '-c', `exec 3<>/dev/tcp/${ip}/${port}`]).code === 0;
}

export interface Running {
  child: ChildProcess;
  tmp: string;
  exited: Promise<number | null>;
  result(): string;
  pid(): number;
  stderr(): string;
  /** The command line that ran (for failure messages). */
  describe: string;
}

export interface Privileges { uid: number; caps: string[]; noNewPrivs: boolean; workdir: string; env: Record<string, string> }

/** What the runtime would give this ephemeral container, from its spec and the image. */
export function privilegesOf(ec: V1EphemeralContainer, image: ImageModel): Privileges {
  const sc = ec.securityContext ?? {};
  if (!(sc.capabilities?.drop ?? []).includes('ALL')) throw new Error('the harness expects capabilities.drop [ALL]');
  const uid = sc.runAsUser ?? image.user;
  if (sc.runAsNonRoot && uid === 0) throw new Error('runAsNonRoot with uid 0: the kubelet would refuse to start it');
  return {
    uid, caps: sc.capabilities?.add ?? [], noNewPrivs: sc.allowPrivilegeEscalation === false,
    workdir: ec.workingDir ?? image.workdir,
    env: Object.fromEntries((ec.env ?? []).map((e) => [e.name, e.value ?? ''])),
  };
}

/**
 * Starts the ephemeral container's argv. `netns`: the pod's network namespace. `pidOf`: a process
 * whose PID namespace the container joins (targetContainerName).
 */
export function startInjector(ec: V1EphemeralContainer, image: ImageModel, bin: string, where: { netns?: string; pidOf?: number; tmp?: string }, override?: Partial<Privileges>): Running {
  const argv = [...(ec.command ?? []), ...(ec.args ?? [])];
  if (argv[0] !== '/bin/sh') throw new Error(`expected /bin/sh (the image's busybox sh), got ${argv[0]}`);
  const priv = { ...privilegesOf(ec, image), ...override };
  const tmp = where.tmp ?? mkdtempSync(join(tmpdir(), 'fl-ctmp-'));
  chmodSync(tmp, 0o1777);
  const caps = priv.caps.map((c) => `+${c.toLowerCase()}`).join(',');
  const setpriv = ['setpriv', `--reuid=${priv.uid}`, `--regid=${priv.uid}`, '--clear-groups', '--inh-caps=-all', `--bounding-set=-all${caps ? `,${caps}` : ''}`,
    ...(priv.noNewPrivs ? ['--no-new-privs'] : [])];
  const env = ['env', '-i', `PATH=${bin}`, 'HOME=/', ...Object.entries(priv.env).map(([k, v]) => `${k}=${v}`)];
  const inner = [...setpriv, '--', ...env, join(bin, 'sh'), ...argv.slice(1)];
  // a private mount namespace: the container's own /tmp; then its workingDir
  const wrap = ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$1" /tmp && cd "$2" && shift 2 && exec "$@"', 'wrap', tmp, priv.workdir, ...inner];
  let cmd = wrap;
  if (where.pidOf) cmd = ['nsenter', `--target=${where.pidOf}`, '--pid', '--', ...cmd];
  if (where.netns) cmd = ['ip', 'netns', 'exec', where.netns, ...cmd];
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const read = (f: string) => (existsSync(join(tmp, f)) ? readFileSync(join(tmp, f), 'utf8').trim() : '');
  return {
    child, tmp, exited, stderr: () => err, describe: `uid ${priv.uid}, caps [${priv.caps.join(',')}], nnp ${priv.noNewPrivs}`,
    result: () => read('faultline.result'),
    pid: () => Number(read('faultline.pid')),
  };
}

export async function until(what: string, fn: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!fn()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - start;
}

/** Processes (pid, comm, ppid) now. */
export function processes(): { pid: number; ppid: number; comm: string; rssKiB: number; anonKiB: number; uid: number }[] {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const status = readFileSync(`/proc/${d}/status`, 'utf8');
      const get = (k: string) => new RegExp(`^${k}:\\s+(.*)$`, 'm').exec(status)?.[1] ?? '';
      out.push({ pid: Number(d), ppid: Number(get('PPid')), comm: get('Name'), rssKiB: Number(get('VmRSS').split(/\s+/)[0] ?? 0) || 0, anonKiB: Number(get('RssAnon').split(/\s+/)[0] ?? 0) || 0, uid: Number(get('Uid').split(/\s+/)[0]) });
    } catch { /* gone */ }
  }
  return out;
}

/** Descendants of pid (and pid itself), by parent links. */
export function descendants(pid: number, all = processes()): typeof all {
  const kids = new Map<number, typeof all>();
  for (const p of all) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), p]);
  const out: typeof all = [];
  const walk = (p: number) => { for (const k of kids.get(p) ?? []) { out.push(k); walk(k.pid); } };
  const self = all.find((p) => p.pid === pid);
  if (self) out.push(self);
  walk(pid);
  return out;
}

export function cleanupDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
