/**
 * Codec worker: compresses chunks off the main thread so a write keeps every core busy. Started by the
 * codec pool through startWorker; each message is one chunk, answered in order of completion.
 *
 * @example
 * // main thread
 * worker.postMessage({ id: 1, spec: { id: 'zstd', level: 1 }, data }, [data.buffer])
 * worker.on('message', ({ id, data }) => …)
 */
import { parentPort } from 'node:worker_threads';
import { type CodecSpec, encodeChunk } from './codecs.js';

/** Request: compress `data` (its buffer is transferred, not copied). */
export interface EncodeRequest {
  id: number;
  spec: CodecSpec;
  data: Uint8Array;
}

/** Reply: the compressed bytes (transferred back), or the error text. */
export type EncodeReply = { id: number; data: Uint8Array } | { id: number; error: string };

const port = parentPort;
if (port) {
  port.on('message', async (req: EncodeRequest) => {
    try {
      const data = await encodeChunk(req.spec, req.data);
      // Transfer only when the result owns its whole buffer; a view into a shared pool buffer must be copied.
      const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
      port.postMessage({ id: req.id, data: owned } satisfies EncodeReply, [owned.buffer as ArrayBuffer]);
    } catch (err) {
      port.postMessage({
        id: req.id,
        error: err instanceof Error ? err.message : String(err),
      } satisfies EncodeReply);
    }
  });
}
