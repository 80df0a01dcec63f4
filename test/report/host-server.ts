// A local HTTP server standing in for a Git host or Slack: records every request and answers
// through a handler the test supplies.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string; // without the query
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown; // parsed JSON, or the raw text when not JSON
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  hang?: boolean; // never answer (until the server closes)
  raw?: string; // sent as is instead of JSON (hostile or broken hosts)
}

export interface HostServer {
  url: string;
  requests: Recorded[];
  pending: number; // requests received and not yet answered
  close(): Promise<void>;
}

export async function startHostServer(handler: (req: Recorded) => Reply | Promise<Reply>): Promise<HostServer> {
  const requests: Recorded[] = [];
  const state = { pending: 0 };
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // form or plain text
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const rec: Recorded = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body };
      requests.push(rec);
      state.pending++;
      void Promise.resolve(handler(rec)).then((reply) => {
        if (reply.hang) {
          hanging.add(res);
          return;
        }
        state.pending--;
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get pending() {
      return state.pending;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Poll until `check` holds; fails with `what` after the deadline. No fixed sleeps. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
