// pods/exec for the in-pod faults: run a command in a (ephemeral) container, collect stdout,
// stderr and the exit status, and turn every failure into readable text (client-node rejects with
// WebSocket events and API bodies, which print as "[object Object]").
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
// Not re-exported by the package index; its constructor takes the socket factory used below.
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { WebSocket, type ClientOptions } from 'ws';

export interface ExecResult { ok: boolean; status: V1Status; stdout: string; stderr: string }

/** Readable text for anything thrown by client-node or the API server. */
export function errorText(err: unknown): string {
  if (err === null || err === undefined) return String(err);
  if (typeof err === 'string') return err;
  const e = err as { message?: unknown; body?: unknown; code?: unknown; error?: unknown; reason?: unknown; type?: unknown; target?: { url?: unknown } };
  const body = typeof e.body === 'string' ? tryJson(e.body) : e.body;
  const apiMessage = (body as { message?: unknown } | undefined)?.message;
  if (typeof apiMessage === 'string') return typeof e.code === 'number' ? `${e.code}: ${apiMessage}` : apiMessage;
  if (e.error instanceof Error) return e.error.message; // ws ErrorEvent
  if (typeof e.message === 'string' && e.message) return e.message;
  if (typeof e.reason === 'string' && e.reason) return e.reason;
  try {
    return JSON.stringify(err).slice(0, 300);
  } catch {
    return Object.prototype.toString.call(err);
  }
}

function tryJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return { message: s.slice(0, 300) };
  }
}

const MAX_BODY = 64 * 1024;

/**
 * The API server refuses an exec (container not running, forbidden, bad request) with an HTTP
 * status and a Status body before the WebSocket upgrade; `ws` reports only "Unexpected server
 * response: 400". This socket reads that body and fails with the server's own message.
 */
export function readableRefusals(uri: string, protocols: string[], opts: ClientOptions): WebSocket {
  const ws = new WebSocket(uri, protocols, opts);
  ws.on('unexpected-response', (_req, res: IncomingMessage) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => { if (body.length < MAX_BODY) body += chunk; });
    res.on('error', () => undefined);
    res.on('end', () => {
      ws.emit('error', new Error(refusalText(res.statusCode ?? 0, body)));
      ws.terminate(); // ends the request; its own "closed before the connection was established" comes after ours
    });
  });
  return ws;
}

/** "400 Bad Request: <the Status message>", or the body's first line when it is not a Status. */
export function refusalText(code: number, body: string): string {
  let status: { message?: unknown; reason?: unknown } | undefined;
  try {
    status = JSON.parse(body) as typeof status;
  } catch {
    status = undefined; // not a Status: an ingress or proxy answered
  }
  const message = typeof status?.message === 'string' && status.message ? status.message : body.trim().split('\n')[0]?.slice(0, 300);
  const reason = typeof status?.reason === 'string' && status.reason ? ` ${status.reason}` : '';
  return `the API server refused the exec (${code}${reason})${message ? `: ${message}` : ''}`;
}

export async function execIn(kc: KubeConfig, namespace: string, pod: string, container: string, command: string[], timeoutMs = 15_000): Promise<ExecResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const where = `exec in ${namespace}/${pod}/${container}`;
  const status = await new Promise<V1Status>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${where} timed out after ${timeoutMs / 1000}s`)), timeoutMs);
    new Exec(kc, new WebSocketHandler(kc, readableRefusals))
      .exec(namespace, pod, container, command, out, err, null, false, (s) => {
        clearTimeout(timer);
        resolve(s);
      })
      .then((ws) => ws.on('close', () => setTimeout(() => { clearTimeout(timer); reject(new Error(`${where}: closed without a status`)); }, 1000).unref()))
      .catch((e: unknown) => {
        clearTimeout(timer);
        reject(new Error(`${where}: ${errorText(e)}`));
      });
  });
  const ok = status.status === 'Success';
  if (!ok && !stderr) stderr = status.message ?? 'command failed';
  return { ok, status, stdout, stderr };
}
