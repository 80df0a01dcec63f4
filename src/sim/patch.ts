// The three patch formats the API server accepts for JSON resources.
import { ApiError, badRequest, unsupportedMediaType } from './errors.js';

type Json = unknown;
type JsonMap = Record<string, Json>;

function isMap(v: Json): v is JsonMap {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isMap(patch)) return structuredClone(patch);
  const out: JsonMap = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// Lists merged by a key in strategic merge patch (the ones Faultline and kubectl touch).
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  conditions: 'type',
  containerStatuses: 'name',
  ephemeralContainerStatuses: 'name',
  initContainerStatuses: 'name',
  ownerReferences: 'uid',
  imagePullSecrets: 'name',
};

/** Strategic merge patch: merge patch plus list-merge by key for known lists and `$patch: delete`. */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isMap(patch)) return structuredClone(patch);
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return structuredClone(rest);
  }
  const out: JsonMap = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue; // $retainKeys, $setElementOrder: order hints, ignored
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v) && MERGE_KEYS[k] && Array.isArray(out[k])) {
      out[k] = mergeList(out[k] as Json[], v, MERGE_KEYS[k]);
    } else {
      const merged = strategicMergePatch(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
  }
  return out;
}

function mergeList(base: Json[], patch: Json[], key: string): Json[] {
  const out = base.map((x) => x);
  for (const item of patch) {
    if (!isMap(item) || !(key in item)) {
      out.push(structuredClone(item));
      continue;
    }
    const idx = out.findIndex((x) => isMap(x) && x[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) {
      out[idx] = strategicMergePatch(out[idx], item);
    } else {
      out.push(strategicMergePatch({}, item));
    }
  }
  return out;
}

interface JsonPatchOp { op: string; path: string; from?: string; value?: Json }

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw badRequest(`invalid JSON pointer "${p}"`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, parts: string[], path: string): { parent: JsonMap | Json[]; last: string } {
  let cur: Json = doc;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(part)];
    else if (isMap(cur)) cur = cur[part];
    else cur = undefined;
    if (cur === undefined) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing path: "${path}"`);
  }
  if (!Array.isArray(cur) && !isMap(cur)) throw new ApiError(422, 'Invalid', `doc is missing path: "${path}"`);
  return { parent: cur, last: parts[parts.length - 1]! };
}

function getAt(doc: Json, path: string): Json {
  let cur: Json = doc;
  for (const part of parsePointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(part)];
    else if (isMap(cur)) cur = cur[part];
    else cur = undefined;
    if (cur === undefined) throw new ApiError(422, 'Invalid', `doc is missing path: "${path}"`);
  }
  return cur;
}

function arrayIndex(arr: Json[], last: string, forAdd: boolean, path: string): number {
  if (forAdd && last === '-') return arr.length;
  const i = Number(last);
  if (!/^\d+$/.test(last) || i > arr.length || (!forAdd && i >= arr.length)) {
    throw new ApiError(422, 'Invalid', `index out of bounds at "${path}"`);
  }
  return i;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, last } = parentOf(doc, parsePointer(path), path);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false, path), 1)[0];
  if (!(last in parent)) throw new ApiError(422, 'Invalid', `doc is missing path: "${path}"`);
  const v = parent[last];
  delete parent[last];
  return v;
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const parts = parsePointer(path);
  if (parts.length === 0) return structuredClone(value);
  const { parent, last } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, !replace, path);
    if (replace) parent[i] = structuredClone(value);
    else parent.splice(i, 0, structuredClone(value));
  } else {
    if (replace && !(last in parent)) throw new ApiError(422, 'Invalid', `doc is missing key: "${path}"`);
    parent[last] = structuredClone(value);
  }
  return doc;
}

/** RFC 6902 JSON patch. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw badRequest('json patch must be an array of operations');
  let doc = structuredClone(target);
  for (const raw of ops as JsonPatchOp[]) {
    if (!isMap(raw) || typeof raw.path !== 'string') throw badRequest('invalid json patch operation');
    switch (raw.op) {
      case 'add': doc = addAt(doc, raw.path, raw.value, false); break;
      case 'replace': doc = addAt(doc, raw.path, raw.value, true); break;
      case 'remove': removeAt(doc, raw.path); break;
      case 'move': { const v = removeAt(doc, raw.from ?? ''); doc = addAt(doc, raw.path, v, false); break; }
      case 'copy': doc = addAt(doc, raw.path, getAt(doc, raw.from ?? ''), false); break;
      case 'test':
        if (JSON.stringify(getAt(doc, raw.path)) !== JSON.stringify(raw.value)) {
          throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: testing value ${raw.path} failed`);
        }
        break;
      default: throw badRequest(`unexpected json patch operation "${String(raw.op)}"`);
    }
  }
  return doc;
}

export function applyPatch(contentType: string, target: Json, patch: Json): Json {
  const type = contentType.split(';')[0]!.trim();
  switch (type) {
    case 'application/merge-patch+json': return mergePatch(target, patch);
    case 'application/strategic-merge-patch+json': return strategicMergePatch(target, patch);
    case 'application/json-patch+json': return jsonPatch(target, patch);
    default: throw unsupportedMediaType(type);
  }
}
