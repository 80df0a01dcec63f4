// The Kubernetes API calls Faultline's code makes, as RBAC permissions (apiGroup, resource,
// verb), found by reading src/ (the simulator excluded) with the TypeScript parser.
//
// Method names are resolved against @kubernetes/client-node's own generated request factories
// (dist/gen/apis/*Api.js): each method there builds its request path and HTTP method, so the
// permission comes from the real path (e.g. patchNamespacedPodEphemeralcontainers →
// PATCH /api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers → "" pods/ephemeralcontainers
// patch) instead of a guess from the name. CustomObjectsApi paths carry {group}/{plural}: those
// come from the literals of the call (directly or through a same-file const spread into it).
// Informers and watches (makeInformer, ListWatch, Watch) take a path literal: list + watch.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { ROOT } from './manifests.js';

export interface Permission {
  group: string; // '' for the core group
  resource: string; // with subresource, e.g. pods/exec
  verb: string;
}
export interface ApiCall extends Permission {
  file: string;
  line: number;
  call: string; // what the code says, e.g. CoreV1Api.deleteNamespacedPod
}
export interface ScanResult {
  calls: ApiCall[];
  problems: string[]; // calls the scanner could not map: the test fails on these
}
interface Endpoint { cls: string; path: string; method: string }

export const key = (p: Permission) => `${p.group || 'core'} ${p.resource} ${p.verb}`;

let table: Map<string, Endpoint[]> | undefined;
/** method name → the endpoints of every generated API class that has it. */
export function clientNodeMethods(): Map<string, Endpoint[]> {
  if (table) return table;
  table = new Map();
  const require = createRequire(join(ROOT, 'package.json'));
  const dir = join(dirname(require.resolve('@kubernetes/client-node/package.json')), 'dist/gen/apis');
  for (const f of readdirSync(dir)) {
    const m = /^(\w+Api)\.js$/.exec(f);
    if (!m) continue;
    const text = readFileSync(join(dir, f), 'utf8');
    for (const chunk of text.split(/\n {4}async /).slice(1)) {
      const name = /^(\w+)\(/.exec(chunk)?.[1];
      const path = /const localVarPath = '([^']+)'/.exec(chunk)?.[1];
      const method = /makeRequestContext\(localVarPath, HttpMethod\.(\w+)\)/.exec(chunk)?.[1];
      if (!name || !path || !method) continue;
      const list = table.get(name) ?? [];
      list.push({ cls: m[1]!, path, method });
      table.set(name, list);
    }
  }
  return table;
}

/** The permission a request needs, or undefined for discovery paths (allowed to everyone). */
export function permissionFor(path: string, httpMethod: string): Permission | undefined {
  const segs = path.split('?')[0]!.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (segs[0] === 'api') [group, rest] = ['', segs.slice(2)];
  else if (segs[0] === 'apis' && segs.length >= 3) [group, rest] = [segs[1]!, segs.slice(3)];
  else return undefined;
  if (rest.length === 0) return undefined;
  let watch = false;
  if (rest[0] === 'watch') [watch, rest] = [true, rest.slice(1)];
  // /namespaces/<ns>/<resource>..., but /namespaces/{name}/<sub> is a subresource of a namespace.
  if (rest[0] === 'namespaces' && rest.length > 2 && rest[1] !== '{name}') rest = rest.slice(2);
  const resource = rest[0]!;
  const named = rest[1] !== undefined;
  const sub = rest[2];
  const verb = watch ? 'watch'
    : httpMethod === 'GET' || httpMethod === 'HEAD' || httpMethod === 'OPTIONS' ? (named ? 'get' : 'list')
    : httpMethod === 'POST' ? 'create'
    : httpMethod === 'PUT' ? 'update'
    : httpMethod === 'PATCH' ? 'patch'
    : httpMethod === 'DELETE' ? (named ? 'delete' : 'deletecollection')
    : `unknown-${httpMethod}`;
  return { group, resource: sub ? `${resource}/${sub}` : resource, verb };
}

// Streaming helpers of client-node that open pod subresources over WebSocket. The upgrade is a
// GET; API servers from 1.31 on (WebSocket exec by default) also ask for `create`, as a POST did.
const STREAMS: Record<string, Permission[]> = {
  Exec: [{ group: '', resource: 'pods/exec', verb: 'create' }, { group: '', resource: 'pods/exec', verb: 'get' }],
  Attach: [{ group: '', resource: 'pods/attach', verb: 'create' }, { group: '', resource: 'pods/attach', verb: 'get' }],
  PortForward: [{ group: '', resource: 'pods/portforward', verb: 'create' }, { group: '', resource: 'pods/portforward', verb: 'get' }],
  Log: [{ group: '', resource: 'pods/log', verb: 'get' }],
};
const WATCHERS = new Set(['makeInformer', 'ListWatch', 'Watch']);
// client-node values that reach the API in ways this scanner does not map: using one fails the test
// until it learns them.
const UNMAPPED = new Set(['KubernetesObjectApi', 'Metrics', 'Cp', 'topNodes', 'topPods', 'Health']);

export function sourceFiles(dir = join(ROOT, 'src')): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (relative(ROOT, p) !== 'src/sim') out.push(...sourceFiles(p));
    } else if (/\.(ts|mts|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) {
      out.push({ path: relative(ROOT, p), text: readFileSync(p, 'utf8') });
    }
  }
  return out;
}

const stringValue = (n: ts.Node | undefined): string | undefined =>
  n && (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) ? n.text
    : n && (ts.isAsExpression(n) || ts.isParenthesizedExpression(n) || ts.isSatisfiesExpression(n)) ? stringValue(n.expression)
      : undefined;

function objectLiteral(n: ts.Node | undefined): ts.ObjectLiteralExpression | undefined {
  while (n && (ts.isAsExpression(n) || ts.isParenthesizedExpression(n) || ts.isSatisfiesExpression(n))) n = n.expression;
  return n && ts.isObjectLiteralExpression(n) ? n : undefined;
}

export function scanSources(files: { path: string; text: string }[]): ScanResult {
  const methods = clientNodeMethods();
  const calls: ApiCall[] = [];
  const problems: string[] = [];
  const parsed = files.map((f) => ({ ...f, sf: ts.createSourceFile(f.path, f.text, ts.ScriptTarget.Latest, true) }));

  // The client-node values the code imports (not types): narrows which API class a method is on.
  const imported = new Map<string, Set<string>>(); // file → names
  for (const { path, sf } of parsed) {
    const names = new Set<string>();
    for (const st of sf.statements) {
      if (!ts.isImportDeclaration(st) || stringValue(st.moduleSpecifier) !== '@kubernetes/client-node') continue;
      const clause = st.importClause;
      if (!clause || clause.isTypeOnly) continue;
      const nb = clause.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) problems.push(`${path}: namespace import of @kubernetes/client-node; import the names so the RBAC scan can see them`);
      if (nb && ts.isNamedImports(nb)) for (const el of nb.elements) if (!el.isTypeOnly) names.add((el.propertyName ?? el.name).text);
    }
    imported.set(path, names);
  }
  const usedClasses = new Set([...imported.values()].flatMap((s) => [...s]).filter((n) => /Api$/.test(n)));

  for (const { path, sf } of parsed) {
    const names = imported.get(path)!;
    const lineOf = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
    const add = (n: ts.Node, call: string, p: Permission) => calls.push({ ...p, file: path, line: lineOf(n), call });
    for (const u of names) if (UNMAPPED.has(u)) problems.push(`${path}: uses ${u} from @kubernetes/client-node, which test/deploy/api-calls.ts cannot map to RBAC yet`);

    // Same-file `const X = { group: '...', plural: '...' }` for CustomObjects calls.
    const consts = new Map<string, ts.ObjectLiteralExpression>();
    const collectConsts = (n: ts.Node) => {
      if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name)) {
        const o = objectLiteral(n.initializer);
        if (o) consts.set(n.name.text, o);
      }
      ts.forEachChild(n, collectConsts);
    };
    collectConsts(sf);
    const literalProps = (o: ts.ObjectLiteralExpression, seen = new Set<string>()): Map<string, string | undefined> => {
      const props = new Map<string, string | undefined>();
      for (const p of o.properties) {
        if (ts.isSpreadAssignment(p) && ts.isIdentifier(p.expression) && !seen.has(p.expression.text)) {
          const c = consts.get(p.expression.text);
          if (c) for (const [k, v] of literalProps(c, new Set([...seen, p.expression.text]))) props.set(k, v);
        } else if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) {
          props.set(p.name.text, stringValue(p.initializer));
        } else if (ts.isShorthandPropertyAssignment(p)) {
          props.set(p.name.text, undefined);
        }
      }
      return props;
    };

    const usesWatch = names.has('makeInformer') || names.has('ListWatch') || names.has('Watch');
    const visit = (n: ts.Node) => {
      const callee = ts.isCallExpression(n) ? n.expression : undefined;
      const method = callee && ts.isPropertyAccessExpression(callee) ? callee.name.text
        : callee && ts.isElementAccessExpression(callee) ? stringValue(callee.argumentExpression) : undefined;
      if (ts.isCallExpression(n) && method !== undefined) {
        const endpoints = (methods.get(method) ?? []).filter((e) => usedClasses.has(e.cls));
        if (endpoints.length) {
          const perms = new Map<string, { p: Permission; cls: string }>();
          for (const e of endpoints) {
            let reqPath = e.path;
            if (reqPath.includes('{group}') || reqPath.includes('{plural}')) {
              const props = n.arguments[0] && objectLiteral(n.arguments[0]) ? literalProps(objectLiteral(n.arguments[0])!) : new Map<string, string | undefined>();
              const group = props.get('group');
              const plural = props.get('plural');
              if (!group || !plural) {
                problems.push(`${path}:${lineOf(n)}: ${e.cls}.${method} without literal group/plural (write them in the call or in a same-file const spread into it)`);
                continue;
              }
              reqPath = reqPath.replace('{group}', group).replace('{plural}', plural);
            }
            const p = permissionFor(reqPath, e.method);
            if (p) perms.set(key(p), { p, cls: e.cls });
          }
          if (perms.size > 1) {
            problems.push(`${path}:${lineOf(n)}: ${method} is on several imported API classes with different permissions (${[...perms.keys()].join('; ')})`);
          }
          for (const { p, cls } of perms.values()) add(n, `${cls}.${method}`, p);
        }
      }
      if (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && names.has(n.expression.text) && STREAMS[n.expression.text]) {
        for (const p of STREAMS[n.expression.text]!) add(n, `new ${n.expression.text}`, p);
      }
      // Informers/watches: every API path literal in a file that uses them.
      if (usesWatch && (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && /^\/apis?\/[^\s]+$/.test(n.text)) {
        const p = permissionFor(n.text, 'GET');
        const parent = n.parent;
        if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.PlusToken) {
          problems.push(`${path}:${lineOf(n)}: watch path built by concatenation from ${n.text}; use plain literals so the RBAC scan can read it`);
        } else if (p && p.verb === 'list') {
          add(n, `informer ${n.text}`, p);
          add(n, `informer ${n.text}`, { ...p, verb: 'watch' });
        } else {
          problems.push(`${path}:${lineOf(n)}: API path ${n.text} next to a watch/informer is not a collection`);
        }
      }
      if (usesWatch && ts.isTemplateExpression(n) && /^\/apis?\//.test(n.head.text)) {
        problems.push(`${path}:${lineOf(n)}: watch path built from a template; use plain literals so the RBAC scan can read it`);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
    if (usesWatch && !calls.some((c) => c.file === path && c.call.startsWith('informer '))) {
      problems.push(`${path}: uses ${[...names].filter((x) => WATCHERS.has(x)).join(', ')} but no API path literal was found`);
    }
  }
  return { calls, problems };
}

interface Rule { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }

/** The permissions granted by RBAC rules, expanded one by one; wildcards are reported. */
export function grants(rules: Rule[]): { granted: Permission[]; problems: string[] } {
  const granted: Permission[] = [];
  const problems: string[] = [];
  for (const r of rules) {
    if (r.nonResourceURLs?.length) problems.push(`nonResourceURLs ${r.nonResourceURLs.join(', ')} are not used by the code`);
    for (const list of [r.apiGroups ?? [], r.resources ?? [], r.verbs]) if (list.includes('*')) problems.push(`wildcard in rule ${JSON.stringify(r)}`);
    for (const group of r.apiGroups ?? []) for (const resource of r.resources ?? []) for (const verb of r.verbs) granted.push({ group, resource, verb });
  }
  return { granted, problems };
}

/** Calls not covered by the grants, and grants no call needs (watch is tolerated next to list). */
export function compare(calls: Permission[], granted: Permission[]): { missing: Permission[]; unused: Permission[] } {
  const g = new Set(granted.map(key));
  const needed = new Set(calls.map(key));
  const missing = [...new Map(calls.filter((c) => !g.has(key(c))).map((c) => [key(c), c])).values()];
  const unused = granted.filter((p) => !needed.has(key(p)) && !(p.verb === 'watch' && needed.has(key({ ...p, verb: 'list' }))));
  return { missing, unused: [...new Map(unused.map((p) => [key(p), p])).values()] };
}
