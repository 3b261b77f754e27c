// A warehouse file's batch id: the sha256 of its bytes. A module of its own (node:crypto only), so
// that code needing just the hash (the P4 benchmark, tools) does not load mongoose and the
// Temporal client with adaptor/ingest.ts, which re-exports it.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

/** The sha256 of everything the stream yields, hex. */
export async function hashStream(stream: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk as Buffer);
  return h.digest('hex');
}
