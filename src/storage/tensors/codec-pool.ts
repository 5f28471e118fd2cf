/**
 * A small pool of codec workers (one per core, at most 8), started on first use and shared by every large
 * write and read in the process. Idle workers are unref'd, so the pool never keeps a finished program
 * alive; a worker is ref'd again while it has chunks in flight, so a pending write or read does.
 *
 * @example
 * const compressed = await codecPool().encode({ id: 'zstd', level: 1 }, chunkBytes) // chunkBytes is detached
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { TensorError } from '../../errors.js';
import { startWorker } from '../../util/worker.js';
import { asStorageFull } from '../disk-full.js';
import type { CodecReply, CodecRequest } from './codec-worker.js';
import type { CodecSpec, DecoderId } from './codecs.js';

interface Pending {
  resolve(data: Uint8Array): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

export class CodecPool {
  readonly size: number;
  #slots: Slot[] = [];
  #nextId = 1;

  constructor(size: number) {
    this.size = size;
  }

  /** Compresses `data` in a worker. Its buffer is transferred, so the caller must not use it afterwards. */
  encode(spec: CodecSpec, data: Uint8Array): Promise<Uint8Array> {
    return this.#send((id) => ({ id, op: 'encode', spec, data }), data);
  }

  /** Decompresses `data` in a worker. Its buffer is transferred, so the caller must not use it afterwards. */
  decode(codec: DecoderId, data: Uint8Array): Promise<Uint8Array> {
    return this.#send((id) => ({ id, op: 'decode', codec, data }), data);
  }

  #send(request: (id: number) => CodecRequest, data: Uint8Array): Promise<Uint8Array> {
    const slot = this.#leastBusy();
    const id = this.#nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      if (slot.pending.size === 1) slot.worker.ref();
      slot.worker.postMessage(request(id), [data.buffer as ArrayBuffer]);
    });
  }

  /** Stops every worker; pending chunks fail. The next encode starts new ones. */
  async close(): Promise<void> {
    const slots = this.#slots;
    this.#slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  #leastBusy(): Slot {
    if (this.#slots.length < this.size) {
      const idle = this.#slots.find((s) => s.pending.size === 0);
      if (!idle) return this.#spawn();
    }
    let best = this.#slots[0]!;
    for (const s of this.#slots) if (s.pending.size < best.pending.size) best = s;
    return best;
  }

  #spawn(): Slot {
    const worker = startWorker(import.meta.url, './codec-worker');
    const slot: Slot = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (reply: CodecReply) => {
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      if ('error' in reply) p.reject(new TensorError(`tensor: codec failed: ${reply.error}`));
      else p.resolve(reply.data);
    });
    const fail = (err: Error) => {
      this.#slots = this.#slots.filter((s) => s !== slot);
      // A worker that died of a full disk (its heap snapshot, a log) reports that, not a codec failure.
      const full = asStorageFull(err, 'tensor', 'a chunk being encoded');
      for (const p of slot.pending.values())
        p.reject(full ?? new TensorError(`tensor: codec worker failed: ${err.message}`, { cause: err }));
      slot.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    this.#slots.push(slot);
    return slot;
  }
}

let shared: CodecPool | undefined;

/** The process-wide pool, sized to the machine's cores. */
export function codecPool(): CodecPool {
  shared ??= new CodecPool(Math.max(1, Math.min(8, os.availableParallelism())));
  return shared;
}
