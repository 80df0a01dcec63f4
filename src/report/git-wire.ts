// The few git object and wire formats the status writer needs, in plain Node: object ids, tree
// encoding, a pack of exactly the objects a commit added, and a push of that pack over smart
// HTTP (git-receive-pack). isomorphic-git's push walks every tree of the new commit and of the
// remote head to find what to send, which grows with the repository; here the writer already
// knows the new objects, so a push costs what changed.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

export type ObjectType = 'commit' | 'tree' | 'blob';
const TYPE_CODE: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3 };

export interface GitObject {
  oid: string;
  type: ObjectType;
  body: Buffer;
}

export interface TreeItem {
  mode: string; // '100644' or '040000' (isomorphic-git's spelling)
  path: string;
  oid: string;
  type: 'blob' | 'tree' | 'commit';
}

export function makeObject(type: ObjectType, body: Buffer): GitObject {
  const oid = createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');
  return { oid, type, body };
}

/** A tree object, entries in git's order (a tree sorts as if its name ended in '/'). */
export function makeTree(entries: Iterable<TreeItem>): GitObject {
  const list = [...entries];
  const key = (e: TreeItem) => (e.type === 'tree' ? `${e.path}/` : e.path);
  list.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const parts: Buffer[] = [];
  for (const e of list) {
    const mode = e.type === 'tree' ? '40000' : e.mode.replace(/^0+/, '');
    parts.push(Buffer.from(`${mode} ${e.path}\0`), Buffer.from(e.oid, 'hex'));
  }
  return makeObject('tree', Buffer.concat(parts));
}

export function makeCommit(c: { tree: string; parent?: string; author: { name: string; email: string }; when: Date; message: string }): GitObject {
  const sig = `${c.author.name} <${c.author.email}> ${Math.floor(c.when.getTime() / 1000)} +0000`;
  const head = [`tree ${c.tree}`, ...(c.parent ? [`parent ${c.parent}`] : []), `author ${sig}`, `committer ${sig}`];
  return makeObject('commit', Buffer.from(`${head.join('\n')}\n\n${c.message}`));
}

/** A version 2 pack of the objects. */
export async function buildPack(objects: GitObject[]): Promise<{ pack: Buffer; entries: { oid: string; offset: number; crc: number }[] }> {
  const deflated = await deflateAll(objects);
  const header = Buffer.alloc(12);
  header.write('PACK', 0);
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(objects.length, 8);
  const parts: Buffer[] = [header];
  const entries: { oid: string; offset: number; crc: number }[] = [];
  let offset = 12;
  for (const [i, o] of objects.entries()) {
    const bytes: number[] = [];
    let size = o.body.length;
    let b = (TYPE_CODE[o.type] << 4) | (size & 0x0f);
    size >>>= 4;
    while (size > 0) {
      bytes.push(b | 0x80);
      b = size & 0x7f;
      size >>>= 7;
    }
    bytes.push(b);
    const entry = Buffer.concat([Buffer.from(bytes), deflated[i]!]);
    entries.push({ oid: o.oid, offset, crc: crc32(entry) });
    parts.push(entry);
    offset += entry.length;
  }
  const body = Buffer.concat(parts);
  const trailer = createHash('sha1').update(body).digest();
  return { pack: Buffer.concat([body, trailer]), entries };
}

/** Stores a pack and its version 2 index under objects/pack, so later reads find the objects. */
export async function storePack(gitdir: string, built: { pack: Buffer; entries: { oid: string; offset: number; crc: number }[] }): Promise<void> {
  const { pack, entries } = built;
  const sorted = [...entries].sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  const fanout = Buffer.alloc(256 * 4);
  let n = 0;
  for (let byte = 0; byte < 256; byte++) {
    while (n < sorted.length && parseInt(sorted[n]!.oid.slice(0, 2), 16) <= byte) n++;
    fanout.writeUInt32BE(n, byte * 4);
  }
  const crcs = Buffer.alloc(sorted.length * 4);
  const offsets = Buffer.alloc(sorted.length * 4);
  const large: Buffer[] = [];
  sorted.forEach((e, i) => {
    crcs.writeUInt32BE(e.crc >>> 0, i * 4);
    if (e.offset < 0x80000000) offsets.writeUInt32BE(e.offset, i * 4);
    else {
      offsets.writeUInt32BE((0x80000000 | large.length) >>> 0, i * 4);
      const big = Buffer.alloc(8);
      big.writeBigUInt64BE(BigInt(e.offset));
      large.push(big);
    }
  });
  const packSum = pack.subarray(pack.length - 20);
  const idxBody = Buffer.concat([
    Buffer.from([0xff, 0x74, 0x4f, 0x63, 0, 0, 0, 2]),
    fanout,
    ...sorted.map((e) => Buffer.from(e.oid, 'hex')),
    crcs,
    offsets,
    ...large,
    packSum,
  ]);
  const idx = Buffer.concat([idxBody, createHash('sha1').update(idxBody).digest()]);
  const dir = join(gitdir, 'objects', 'pack');
  await mkdir(dir, { recursive: true });
  const name = `pack-${packSum.toString('hex')}`;
  if (existsSync(join(dir, `${name}.idx`))) return;
  // The pack first, then the index: a reader that sees the index finds the whole pack.
  await writeFile(join(dir, `${name}.pack.tmp`), pack);
  await rename(join(dir, `${name}.pack.tmp`), join(dir, `${name}.pack`));
  await writeFile(join(dir, `${name}.idx.tmp`), idx);
  await rename(join(dir, `${name}.idx.tmp`), join(dir, `${name}.idx`));
}

export class PushRejected extends Error {
  readonly kind = 'rejected';
}

/**
 * Updates `ref` from `oldOid` (all zeros: create) to `newOid`, sending `pack`. Resolves when the
 * server reports the ref updated; rejects with PushRejected when it refuses (someone else wrote
 * first), or with the HTTP/transport error.
 */
export async function pushPack(opts: {
  url: string;
  ref: string;
  oldOid: string;
  newOid: string;
  pack: Buffer;
  headers?: Record<string, string>;
  timeoutMs?: number;
}): Promise<void> {
  const command = `${opts.oldOid} ${opts.newOid} ${opts.ref}\0report-status agent=faultline\n`;
  const body = Buffer.concat([pktLine(command), Buffer.from('0000'), opts.pack]);
  const res = await fetch(`${opts.url.replace(/\/$/, '')}/git-receive-pack`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-git-receive-pack-request',
      accept: 'application/x-git-receive-pack-result',
      ...opts.headers,
    },
    body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
  });
  const text = Buffer.from(await res.arrayBuffer());
  if (!res.ok) throw new Error(`push to ${redactUrl(opts.url)}: HTTP ${res.status} ${res.statusText}`);
  const lines = readPktLines(text);
  const unpack = lines.find((l) => l.startsWith('unpack '));
  if (unpack !== 'unpack ok') throw new Error(`push to ${redactUrl(opts.url)}: ${unpack ?? 'no report from the server'}`);
  const status = lines.find((l) => l.startsWith('ok ') || l.startsWith('ng '));
  if (status === `ok ${opts.ref}`) return;
  throw new PushRejected(`push to ${redactUrl(opts.url)} refused: ${status ?? 'no ref status'}`);
}

function pktLine(s: string): Buffer {
  const data = Buffer.from(s);
  return Buffer.concat([Buffer.from((data.length + 4).toString(16).padStart(4, '0')), data]);
}

function readPktLines(buf: Buffer): string[] {
  const out: string[] = [];
  let i = 0;
  while (i + 4 <= buf.length) {
    const len = parseInt(buf.subarray(i, i + 4).toString(), 16);
    if (Number.isNaN(len)) break;
    if (len === 0) {
      i += 4;
      continue;
    }
    out.push(buf.subarray(i + 4, i + len).toString('utf8').replace(/\n$/, ''));
    i += len;
  }
  return out;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

/**
 * Deflates every object on this thread, yielding to the event loop every few milliseconds. For
 * small objects (status records, trees) node's async deflate costs about twice the CPU of the
 * sync one (a stream and a thread-pool round trip per object; 10,000 records: ~1.4 s against
 * ~0.6 s on the bench machine), and the slices keep webhooks and runs from waiting behind it.
 */
async function deflateAll(objects: GitObject[], sliceMs = 5): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let slice = performance.now();
  for (const o of objects) {
    out.push(deflateSync(o.body));
    if (performance.now() - slice > sliceMs) {
      await new Promise((r) => setImmediate(r));
      slice = performance.now();
    }
  }
  return out;
}
