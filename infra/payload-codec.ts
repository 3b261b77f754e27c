// Customer data never reaches Temporal in plaintext: every payload the project writes (workflow
// inputs, update arguments, activity inputs and results, query answers, failure messages) is
// sealed with AES-256-GCM before it leaves the process. The key id travels in the payload's
// metadata, so histories written under an older key still open after a rotation as long as that
// key stays in the key file.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS module: its default export under plain node (a named import works only through tsx).
import proto from '@temporalio/proto';
import { z } from 'zod';
import type { Config } from './config';

type KeySettings = { temporal: Pick<Config['temporal'], 'payloadKeysFile'> };

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const { Payload: PayloadProto } = proto.temporal.api.common.v1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The published development key: used only when no key file is configured outside production, so
 * that development histories are sealed the same way as production ones (never for real data).
 */
const DEV_KEYS: PayloadKeys = { current: 'dev', keys: { dev: Buffer.alloc(32, 'hardware-orders-dev-payload-key!') } };

export interface PayloadKeys {
  /** The key new payloads are sealed with. */
  current: string;
  keys: Record<string, Buffer>;
}

const KeyFileSchema = z
  .object({
    current: z.string().regex(/^[\w.-]{1,64}$/, 'a key id is 1-64 letters, digits, dots, dashes or underscores'),
    keys: z.record(
      z.string().regex(/^[\w.-]{1,64}$/),
      z.string().refine((k) => Buffer.from(k, 'base64').length === 32, 'each key is 32 bytes, base64-encoded'),
    ),
  })
  .refine((f) => f.current in f.keys, { message: 'current names a key that is not in keys' });

/** Parses a key file: `{ "current": "2026-11", "keys": { "2026-11": "<base64 32 bytes>", "2026-05": "…" } }`. */
export function parsePayloadKeys(text: string, source = 'the payload key file'): PayloadKeys {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${source} is not JSON`);
  }
  const parsed = KeyFileSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${source}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  return {
    current: parsed.data.current,
    keys: Object.fromEntries(Object.entries(parsed.data.keys).map(([id, k]) => [id, Buffer.from(k, 'base64')])),
  };
}

/** The configured keys: the key file when given (required in production), else the development key. */
export function loadPayloadKeys(config: KeySettings): PayloadKeys {
  const file = config.temporal.payloadKeysFile;
  if (!file) return DEV_KEYS;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read TEMPORAL_PAYLOAD_KEYS_FILE ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  return parsePayloadKeys(text, `TEMPORAL_PAYLOAD_KEYS_FILE ${file}`);
}

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keys: PayloadKeys) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keys.current;
    const key = this.keys.keys[keyId];
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      // The key id is authenticated too: a payload cannot be relabelled to another key.
      cipher.setAAD(Buffer.from(keyId));
      const plain = PayloadProto.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID]: Buffer.from(keyId) },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Payloads written before encryption (or by Temporal itself) pass through.
      if (Buffer.from(payload.metadata?.encoding ?? []).toString() !== ENCRYPTED_ENCODING) return payload;
      const keyId = Buffer.from(payload.metadata?.[KEY_ID] ?? []).toString();
      const key = this.keys.keys[keyId];
      if (!key) throw new Error(`payload sealed with key "${keyId}", which is not in the configured keys`);
      const data = Buffer.from(payload.data ?? []);
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return PayloadProto.decode(plain);
    });
  }
}

/** The failure converter's module, for `bundleWorkflowCode` and every data converter (`.js` once compiled). */
export const failureConverterPath = fileURLToPath(new URL(`./failure-converter${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** What every Temporal client and worker of this project uses to write and read payloads. */
export function temporalDataConverter(config: KeySettings): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(loadPayloadKeys(config))], failureConverterPath };
}
