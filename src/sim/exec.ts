// pods/exec over WebSocket (v4/v5.channel.k8s.io): records the command, emulates the few
// commands Faultline sends (kill in an ephemeral container ends it) and returns the exit status
// on the status channel, as the kubelet does.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { terminateContainer } from './controllers.js';
import { RESULT_FILE } from '../faults/inpod-scripts.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { injectorCommand, type InjectorSim } from './injector.js';
import type { SimStore } from './store.js';

export interface ExecCall {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  ephemeral: boolean;
  at: Date;
}

export interface ExecResult { stdout?: string; stderr?: string; exitCode?: number }

/** Custom result for a command; return undefined to use the built-in behaviour. */
export type ExecHandler = (call: ExecCall) => ExecResult | undefined;

const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

interface ContainerView { name: string }
interface StatusView { name: string; state?: { running?: unknown; terminated?: unknown } }

function signalExit(args: string[]): number {
  const sig = args.find((a) => a.startsWith('-'))?.replace(/^-+(SIG)?/i, '').toUpperCase();
  return sig === '9' || sig === 'KILL' ? 137 : 143;
}

export class ExecServer {
  readonly calls: ExecCall[] = [];
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? [...offered][0] ?? false,
  });

  constructor(private readonly store: SimStore, private readonly handler?: ExecHandler, private readonly injectors?: InjectorSim) {}

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let call: ExecCall;
    try {
      call = this.prepare(req);
    } catch (err) {
      const e = err instanceof ApiError ? err : badRequest(String(err));
      const body = JSON.stringify(e.toStatus());
      socket.end(`HTTP/1.1 ${e.code} ${e.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.run(ws, call));
  }

  close(): void {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
  }

  private prepare(req: IncomingMessage): ExecCall {
    const url = new URL(req.url ?? '/', 'http://sim');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    if (!m) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const [namespace, podName] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
    const pod = this.store.get('pods', namespace, podName);
    if (!pod) throw notFound('', 'pods', podName);
    const command = url.searchParams.getAll('command');
    if (!command.length) throw badRequest('you must specify at least 1 command');
    const spec = (pod.spec ?? {}) as { containers?: ContainerView[]; ephemeralContainers?: ContainerView[] };
    const status = (pod.status ?? {}) as { phase?: string; ephemeralContainerStatuses?: StatusView[] };
    const containers = spec.containers ?? [];
    let container = url.searchParams.get('container') ?? '';
    if (!container) {
      if (containers.length !== 1) throw badRequest(`a container name must be specified for pod ${podName}, choose one of: [${containers.map((c) => c.name).join(' ')}]`);
      container = containers[0]!.name;
    }
    const ephemeral = (spec.ephemeralContainers ?? []).some((c) => c.name === container);
    if (!ephemeral && !containers.some((c) => c.name === container)) throw badRequest(`container ${container} is not valid for pod ${podName}`);
    const running = ephemeral
      ? !!status.ephemeralContainerStatuses?.find((c) => c.name === container)?.state?.running
      : status.phase === 'Running' && !pod.metadata.deletionTimestamp;
    if (!running) throw badRequest(`unable to upgrade connection: container not found ("${container}")`);
    return { namespace, pod: podName, container, command, ephemeral, at: new Date() };
  }

  private result(call: ExecCall): ExecResult {
    const custom = this.handler?.(call);
    if (custom) return custom;
    const [cmd = '', ...args] = call.command;
    const base = cmd.split('/').pop()!;
    const script = (base === 'sh' || base === 'bash') && args[0] === '-c' ? (args[1] ?? '') : undefined;
    const pod = this.store.get('pods', call.namespace, call.pod);
    const spec = (pod?.spec ?? {}) as { ephemeralContainers?: { name: string; command?: string[] }[] };
    const injector = call.ephemeral && injectorCommand(spec.ephemeralContainers?.find((c) => c.name === call.container)?.command);
    const resultKey = `${pod?.metadata.uid}/${call.container}`;
    if (injector && base === 'cat' && args[0] === RESULT_FILE) {
      return { stdout: `${this.injectors?.results.get(resultKey) ?? 'starting'}\n`, exitCode: 0 };
    }
    const killsInit = ['kill', 'pkill', 'killall'].includes(base) || (script !== undefined && /\b(kill|pkill|killall)\b/.test(script));
    if (killsInit && injector) {
      // the injector's trap cleans up and reports (ABORT_COMMAND)
      this.injectors?.results.set(resultKey, 'reverted');
      terminateContainer(this.store, call.namespace, call.pod, call.container, 0, 'Completed', undefined, 'reverted');
      return { exitCode: 0 };
    }
    if (killsInit) {
      const words = script !== undefined ? script.split(/\s+/) : args;
      const code = signalExit(words);
      // The kernel drops SIGKILL sent to a PID namespace's init from inside that namespace,
      // which is where an exec into the container runs: the app lives on, kill exits 0.
      if (code === 137 && !call.ephemeral) return { exitCode: 0 };
      terminateContainer(this.store, call.namespace, call.pod, call.container, code, 'Error');
      return { exitCode: 0 };
    }
    if (base === 'echo') return { stdout: `${args.join(' ')}\n`, exitCode: 0 };
    if (base === 'false') return { exitCode: 1 };
    return { exitCode: 0 };
  }

  private run(ws: WebSocket, call: ExecCall): void {
    this.calls.push(call);
    ws.on('error', () => ws.terminate());
    ws.on('message', () => { /* stdin and resize frames are accepted and ignored */ });
    let r: ExecResult;
    try {
      r = this.result(call);
    } catch (err) {
      r = { stderr: `${(err as Error).message}\n`, exitCode: 126 };
    }
    const frame = (channel: number, text: string): Buffer => Buffer.concat([Buffer.from([channel]), Buffer.from(text, 'utf8')]);
    if (r.stdout) ws.send(frame(STDOUT, r.stdout));
    if (r.stderr) ws.send(frame(STDERR, r.stderr));
    const code = r.exitCode ?? 0;
    const status = code === 0
      ? { metadata: {}, status: 'Success' }
      : { metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: error executing command [${call.command.join(' ')}], exit code ${code}`,
          reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(code) }] } };
    ws.send(frame(STATUS, JSON.stringify(status)), () => ws.close(1000));
  }
}
