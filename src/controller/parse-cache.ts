// Parsed experiment files kept in the data directory, so a restart does not parse and validate
// 10,000 unchanged files again (YAML + JSON Schema + normalise + hash: ~0.9 s of CPU for 10k,
// against ~0.1 s to read this file back). An entry is used only for the same path and the same
// Git blob id (same bytes), written by the same code: the key hashes every module of the
// running build, so any code change (schema, defaults, fault types) starts the cache over.
// Files that contain "://" are never cached: their URLs are checked against the egress policy,
// which may differ between starts, so they are always checked afresh.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from '../experiments/model.js';

interface Stored {
  code: string;
  context: string;
  files: Record<string, { oid: string; result: LoadResult }>;
}

const BUILD_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
let codeKey: string | undefined;
/** A hash of every module of this build (src/ under tsx, dist/ when compiled), computed once. */
export function buildKey(root = BUILD_ROOT): string {
  if (codeKey && root === BUILD_ROOT) return codeKey;
  const h = createHash('sha1');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|ts|json|ya?ml)$/.test(e.name)) h.update(`${p.slice(root.length)}\0`).update(readFileSync(p)).update('\0');
    }
  };
  walk(root);
  const key = h.digest('hex');
  if (root === BUILD_ROOT) codeKey = key;
  return key;
}

const URL_MARK = Buffer.from('://');

export class ParseCache {
  private files: Stored['files'] = {};
  private oids: Map<string, LoadResult> | undefined; // built on first byOid()
  private dirty = false;
  private readonly code: string;

  /** `context`: anything else the results depend on (e.g. the import environment), as a string. */
  constructor(private readonly file: string, private readonly context = '', code = buildKey()) {
    this.code = code;
    try {
      const s = JSON.parse(readFileSync(file, 'utf8')) as Stored;
      if (s.code === this.code && s.context === this.context && s.files && typeof s.files === 'object') this.files = s.files;
    } catch {
      // absent or unreadable: start empty
    }
  }

  /** Whether a file may be cached at all (no URL in it). */
  static cacheable(content: Uint8Array): boolean {
    return !Buffer.from(content.buffer, content.byteOffset, content.byteLength).includes(URL_MARK);
  }

  get(path: string, oid: string): LoadResult | undefined {
    const e = this.files[path];
    return e && e.oid === oid ? e.result : undefined;
  }

  /** A cached result by blob id alone (any path): what the pull-request reader needs for names. */
  byOid(oid: string): LoadResult | undefined {
    this.oids ??= new Map(Object.values(this.files).map((e) => [e.oid, e.result]));
    return this.oids.get(oid);
  }

  set(path: string, oid: string, content: Uint8Array, result: LoadResult): void {
    if (!ParseCache.cacheable(content)) {
      if (this.files[path]) this.delete(path);
      return;
    }
    this.files[path] = { oid, result };
    this.oids?.set(oid, result);
    this.dirty = true;
  }

  delete(path: string): void {
    if (!(path in this.files)) return;
    delete this.files[path];
    this.dirty = true;
  }

  /** Keeps only these paths (after a full load). */
  retain(paths: Set<string>): void {
    for (const p of Object.keys(this.files)) if (!paths.has(p)) this.delete(p);
  }

  /** Writes the cache if it changed (temp file + rename: a crash leaves the old one or the new one). */
  save(): void {
    if (!this.dirty) return;
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ code: this.code, context: this.context, files: this.files } satisfies Stored));
    renameSync(tmp, this.file);
    this.dirty = false;
  }
}
