// Building a pack (deflate every object, checksum the whole) in a worker thread, so a status
// commit of 10,000 records (~0.7 s of deflate) does not hold up injections, probes and webhooks
// on the main event loop. The worker's code is a plain-JS string with node built-ins only, so it
// runs the same from dist/ and from src/ under tsx or vitest (no loader for a .ts worker file).
// One worker per PackWorker, started on first use and unref'd (it never keeps the process up).
// If the worker dies (crash, OOM, terminate), every pack it was building is rejected with the
// reason and the next pack starts a new worker: a failure is reported, never a hang.
import { Worker } from 'node:worker_threads';
import type { GitObject } from './git-wire.js';

export interface BuiltPack {
  pack: Buffer;
  entries: { oid: string; offset: number; crc: number }[];
}

const TYPE_CODE = { commit: 1, tree: 2, blob: 3 } as const;

// Receives { id, types, sizes, bodies } (type codes, body lengths, the bodies end to end); answers { id, pack, offsets, crcs } or { id, error }.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { crc32, deflateSync } = require('node:zlib');
let crashNext = 0;
parentPort.on('message', (msg) => {
  if (msg.crashNext) return void (crashNext = msg.crashNext);
  if (crashNext) process.exit(crashNext);
  try {
    const header = Buffer.alloc(12);
    header.write('PACK', 0);
    header.writeUInt32BE(2, 4);
    const n = msg.types.length;
    header.writeUInt32BE(n, 8);
    const parts = [header];
    const offsets = new Float64Array(n);
    const crcs = new Uint32Array(n);
    let offset = 12;
    let at = 0;
    for (let i = 0; i < n; i++) {
      const body = Buffer.from(msg.bodies, at, msg.sizes[i]);
      at += msg.sizes[i];
      const bytes = [];
      let size = body.length;
      let b = (msg.types[i] << 4) | (size & 0x0f);
      size = Math.floor(size / 16);
      while (size > 0) {
        bytes.push(b | 0x80);
        b = size & 0x7f;
        size = Math.floor(size / 128);
      }
      bytes.push(b);
      const entry = Buffer.concat([Buffer.from(bytes), deflateSync(body)]);
      offsets[i] = offset;
      crcs[i] = crc32(entry);
      parts.push(entry);
      offset += entry.length;
    }
    const packBody = Buffer.concat(parts);
    const pack = Buffer.concat([packBody, createHash('sha1').update(packBody).digest()]);
    const ab = pack.buffer.slice(pack.byteOffset, pack.byteOffset + pack.byteLength);
    parentPort.postMessage({ id: msg.id, pack: ab, offsets, crcs }, [ab]);
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: String(err && err.stack || err) });
  }
});
`;

interface Pending {
  resolve: (p: BuiltPack) => void;
  reject: (e: Error) => void;
  oids: string[];
}

export class PackWorkerError extends Error {}

export class PackWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Workers started (a restart after a crash counts again) and workers that died. */
  readonly stats = { started: 0, died: 0 };

  /** The pack of these objects, in this order (the same bytes as git-wire's buildPack). */
  build(objects: GitObject[]): Promise<BuiltPack> {
    const worker = this.ensure();
    const id = this.nextId++;
    return new Promise<BuiltPack>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, oids: objects.map((o) => o.oid) });
      worker.ref(); // kept alive while it has work
      // One buffer of all bodies, transferred (cloning 10,000 small buffers costs the event loop ~20 ms).
      const types = new Uint8Array(objects.length);
      const sizes = new Uint32Array(objects.length);
      objects.forEach((o, i) => {
        types[i] = TYPE_CODE[o.type];
        sizes[i] = o.body.length;
      });
      const all = Buffer.concat(objects.map((o) => o.body));
      const bodies = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      worker.postMessage({ id, types, sizes, bodies }, [bodies, types.buffer, sizes.buffer]);
    });
  }

  /** For tests: the worker exits with this code when it receives its next pack (holding it). */
  crashForTest(code = 7): void {
    this.ensure().postMessage({ crashNext: code });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_SOURCE, { eval: true });
    this.stats.started++;
    w.unref();
    w.on('message', (msg: { id: number; pack?: ArrayBuffer; offsets?: Float64Array; crcs?: Uint32Array; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (this.pending.size === 0) w.unref();
      if (msg.error !== undefined || !msg.pack || !msg.offsets || !msg.crcs) {
        p.reject(new PackWorkerError(`status pack worker: ${msg.error ?? 'malformed answer'}`));
        return;
      }
      const { offsets, crcs } = msg;
      p.resolve({ pack: Buffer.from(msg.pack), entries: p.oids.map((oid, i) => ({ oid, offset: offsets[i]!, crc: crcs[i]! })) });
    });
    const fail = (err: Error) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.stats.died++;
      const waiting = [...this.pending.values()];
      this.pending.clear();
      for (const p of waiting) p.reject(err);
    };
    w.on('error', (err) => fail(new PackWorkerError(`status pack worker failed: ${err.message}`, { cause: err })));
    w.on('exit', (code) => fail(new PackWorkerError(`status pack worker exited with code ${code}`)));
    this.worker = w;
    return w;
  }
}
