// A GitHub stand-in whose every request is checked against GitHub's published OpenAPI
// description (@octokit/openapi) and whose answers are the description's own examples.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { startHostServer, type HostServer, type Recorded, type Reply } from './host-server.js';

type Json = Record<string, unknown>;
interface Operation {
  method: string;
  template: string;
  operationId: string;
  op: Json;
}

const require = createRequire(import.meta.url);
const specPath = require.resolve('@octokit/openapi/generated/api.github.com.json');
const spec = JSON.parse(readFileSync(specPath, 'utf8')) as { paths: Record<string, Record<string, Json>>; components: Json };

function resolve(node: unknown, depth = 0): unknown {
  if (depth > 40 || node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map((n) => resolve(n, depth + 1));
  const obj = node as Json;
  if (typeof obj.$ref === 'string') {
    const target = obj.$ref.replace(/^#\//, '').split('/').reduce<unknown>((acc, key) => (acc as Json)[key], spec);
    return resolve(target, depth + 1);
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolve(v, depth + 1)]));
}

const templates = Object.keys(spec.paths).map((t) => ({
  template: t,
  re: new RegExp(`^${t.replace(/[.*+?^$()[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '([^/]+)')}$`),
  literal: t.replace(/\{[^}]+\}/g, '').length,
}));

export function findOperation(method: string, path: string): Operation | undefined {
  // Prefer the most literal template (e.g. /issues/comments/{id} over /issues/{n}/{x}).
  const matches = templates.filter((t) => t.re.test(path) && spec.paths[t.template]![method.toLowerCase()]).sort((a, b) => b.literal - a.literal);
  const m = matches[0];
  if (!m) return undefined;
  const op = spec.paths[m.template]![method.toLowerCase()]!;
  return { method, template: m.template, operationId: String(op.operationId), op };
}

const ajv = new Ajv({ strict: false, allErrors: true });
// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
type AddFormats = (ajv: Ajv) => unknown;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;
addFormats(ajv);

/** Problems with a request according to the OpenAPI description; empty when it conforms. */
export function validateRequest(req: Recorded, prefix = ''): { operation?: Operation; errors: string[] } {
  const path = req.path.slice(prefix.length);
  const operation = findOperation(req.method, path);
  if (!operation) return { errors: [`${req.method} ${path}: no such operation in GitHub's OpenAPI description`] };
  const errors: string[] = [];
  const params = (resolve(operation.op.parameters ?? []) as { name: string; in: string; required?: boolean; schema?: Json }[]) ?? [];
  for (const [key, value] of req.query) {
    const p = params.find((x) => x.in === 'query' && x.name === key);
    if (!p) errors.push(`${operation.operationId}: unknown query parameter ${key}`);
    else if (p.schema && !ajv.validate(p.schema, p.schema.type === 'integer' ? Number(value) : value)) {
      errors.push(`${operation.operationId}: query ${key}=${value}: ${ajv.errorsText()}`);
    }
  }
  const body = resolve(operation.op.requestBody) as { required?: boolean; content?: Record<string, { schema: Json }> } | undefined;
  const schema = body?.content?.['application/json']?.schema;
  if (body?.required && req.body === undefined) errors.push(`${operation.operationId}: request body required`);
  if (schema && req.body !== undefined && !ajv.validate(schema, req.body)) {
    errors.push(`${operation.operationId}: body ${JSON.stringify(req.body).slice(0, 200)}: ${ajv.errorsText()}`);
  }
  if (!['GET', 'HEAD'].includes(req.method) && !schema && req.body !== undefined) errors.push(`${operation.operationId}: takes no body`);
  return { operation, errors };
}

/** The description's example response for an operation and status. */
export function exampleResponse(operation: Operation, status: number): Json {
  const res = resolve((operation.op.responses as Json)[String(status)]) as { content?: Record<string, { examples?: Record<string, { value: unknown }> }> };
  const examples = res?.content?.['application/json']?.examples;
  const first = examples ? Object.values(examples)[0]?.value : undefined;
  return structuredClone((first ?? {}) as Json);
}

export interface FakeGitHub extends HostServer {
  errors: string[]; // validation failures across all requests
  operations: string[]; // operationIds in order
  comments: Map<number, { id: number; body: string }[]>;
  statuses: { sha: string; state: string; context: string; description: string }[];
  pullsForCommit: Map<string, number>;
  /** Answer the next requests with these replies first (for retry tests). */
  failNext: Reply[];
}

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const comments = new Map<number, { id: number; body: string }[]>();
  const statuses: FakeGitHub['statuses'] = [];
  const pullsForCommit = new Map<string, number>();
  const errors: string[] = [];
  const operations: string[] = [];
  const failNext: Reply[] = [];
  let nextId = 1000;
  const server = await startHostServer((req) => {
    const { operation, errors: errs } = validateRequest(req);
    errors.push(...errs);
    if (!operation) return { status: 404, body: { message: 'Not Found' } };
    operations.push(operation.operationId);
    const injected = failNext.shift();
    if (injected) return injected;
    const parts = req.path.split('/');
    const body = req.body as Json;
    switch (operation.operationId) {
      case 'repos/create-commit-status': {
        statuses.push({ sha: parts[5]!, state: String(body.state), context: String(body.context), description: String(body.description) });
        return { status: 201, body: { ...exampleResponse(operation, 201), state: body.state, context: body.context } };
      }
      case 'issues/list-comments': {
        const list = comments.get(Number(parts[5])) ?? [];
        const page = Number(req.query.get('page') ?? 1);
        const per = Number(req.query.get('per_page') ?? 30);
        const example = exampleResponse(operation, 200) as unknown as Json[];
        return { status: 200, body: list.slice((page - 1) * per, page * per).map((c) => ({ ...example[0], id: c.id, body: c.body })) };
      }
      case 'issues/create-comment': {
        const n = Number(parts[5]);
        const c = { id: nextId++, body: String(body.body) };
        comments.set(n, [...(comments.get(n) ?? []), c]);
        return { status: 201, body: { ...exampleResponse(operation, 201), id: c.id, body: c.body } };
      }
      case 'issues/update-comment': {
        const id = Number(parts[6]);
        for (const list of comments.values()) {
          const c = list.find((x) => x.id === id);
          if (c) {
            c.body = String(body.body);
            return { status: 200, body: { ...exampleResponse(operation, 200), id, body: c.body } };
          }
        }
        return { status: 404, body: { message: 'Not Found' } };
      }
      case 'users/get-authenticated':
        return { status: 200, body: exampleResponse(operation, 200) };
      case 'repos/list-pull-requests-associated-with-commit': {
        const n = pullsForCommit.get(parts[5]!);
        const example = exampleResponse(operation, 200) as unknown as Json[];
        return { status: 200, body: n === undefined ? [] : [{ ...example[0], number: n, merged_at: '2026-11-22T09:00:00Z' }] };
      }
      default:
        return { status: 501, body: { message: `fake does not implement ${operation.operationId}` } };
    }
  });
  return Object.assign(server, { errors, operations, comments, statuses, pullsForCommit, failNext });
}

/** Real example webhook payloads from @octokit/webhooks-examples. */
export function webhookExample(event: string, action: string): Json {
  const all = require('@octokit/webhooks-examples') as { name: string; examples: Json[] }[];
  const ex = all.find((e) => e.name === event)?.examples.find((x) => x.action === action);
  if (!ex) throw new Error(`no ${event}.${action} example`);
  return structuredClone(ex);
}
