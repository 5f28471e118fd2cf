/**
 * Codec worker: compresses and decompresses chunks off the main thread so large writes and reads keep
 * every core busy. Started by the codec pool; each message is one chunk, answered when done.
 *
 * @example
 * // main thread
 * worker.postMessage({ id: 1, op: 'encode', spec: { id: 'zstd', level: 1 }, data }, [data.buffer])
 * worker.on('message', ({ id, data }) => …)
 */
import { parentPort } from 'node:worker_threads';
import { type CodecSpec, type DecoderId, decodeChunk, encodeChunk } from './codecs.js';

/** Request: compress or decompress `data` (its buffer is transferred, not copied). */
export type CodecRequest =
  | { id: number; op: 'encode'; spec: CodecSpec; data: Uint8Array }
  | { id: number; op: 'decode'; codec: DecoderId; data: Uint8Array };

/** Reply: the resulting bytes (transferred back), or the error text. */
export type CodecReply = { id: number; data: Uint8Array } | { id: number; error: string };

const port = parentPort;
if (port) {
  port.on('message', async (req: CodecRequest) => {
    try {
      const data =
        req.op === 'encode' ? await encodeChunk(req.spec, req.data) : await decodeChunk(req.codec, req.data);
      // Transfer only when the result owns its whole buffer; a view into a shared pool buffer must be copied.
      const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
      port.postMessage({ id: req.id, data: owned } satisfies CodecReply, [owned.buffer as ArrayBuffer]);
    } catch (err) {
      port.postMessage({
        id: req.id,
        error: err instanceof Error ? err.message : String(err),
      } satisfies CodecReply);
    }
  });
}
