// Loopback stand-ins for internal services (a cloud-metadata endpoint, a webhook receiver) that
// count every request they get: the tests assert nothing from a file ever reached them.
import { createServer, type Server } from 'node:http';

export interface StandIn {
  url: string;
  port: number;
  hits: string[]; // "METHOD path" per request received
  close(): Promise<void>;
}

export async function standIn(body = 'SECRET-ACCESS-KEY=AKIAEXAMPLE', status = 200): Promise<StandIn> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** An experiment (pod-kill on the shop topology) with an http probe and a notify webhook. */
export function experimentWithUrls(name: string, o: { probeUrl: string; bodyMatch?: string; webhookUrl?: string; duration?: string }): string {
  return [
    'apiVersion: faultline.dev/v1alpha1',
    'kind: ChaosExperiment',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  fault:',
    '    type: pod-kill',
    '    params: { gracePeriodSeconds: 0 }',
    '  target:',
    '    namespace: shop',
    '    selector: { matchLabels: { app: checkout } }',
    '    mode: { type: one }',
    `  duration: ${o.duration ?? '1s'}`,
    '  steadyState:',
    '    probes:',
    '      - name: internal',
    '        http:',
    `          url: "${o.probeUrl}"`,
    ...(o.bodyMatch ? [`          bodyMatch: "${o.bodyMatch}"`] : []),
    '        interval: 1s',
    ...(o.webhookUrl ? ['  notify:', `    webhook: { url: "${o.webhookUrl}" }`] : []),
    '',
  ].join('\n');
}
