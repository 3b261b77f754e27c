// The payload codec: sealed payloads open only with their key, tampering is detected, old keys
// keep opening after a rotation, and the key file is validated with clear errors.
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ENCRYPTED_ENCODING, EncryptionCodec, parsePayloadKeys, type PayloadKeys } from '../../infra/payload-codec';

const key = () => randomBytes(32);
const json = (value: unknown): Payload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) });
const text = (p: Payload) => Buffer.from(p.data ?? []).toString();

describe('EncryptionCodec', () => {
  const may: PayloadKeys = { current: '2026-05', keys: { '2026-05': key() } };
  const plain = json({ name: 'Zelda Quinnfather', postcode: 'LS6 4QX' });

  it('seals a payload so nothing of it shows, and opens it again', async () => {
    const codec = new EncryptionCodec(may);
    const [sealed] = await codec.encode([plain]);
    expect(Buffer.from(sealed.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(sealed.metadata!['encryption-key-id']!).toString()).toBe('2026-05');
    expect(Buffer.from(sealed.data!).toString('latin1')).not.toContain('Zelda');
    const [opened] = await codec.decode([sealed]);
    expect(text(opened)).toBe(text(plain));
    expect(Buffer.from(opened.metadata!.encoding!).toString()).toBe('json/plain');
  });

  it('uses a fresh nonce each time', async () => {
    const codec = new EncryptionCodec(may);
    const [a, b] = await codec.encode([plain, plain]);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
  });

  it('passes unsealed payloads through (histories from before encryption)', async () => {
    expect(await new EncryptionCodec(may).decode([plain])).toEqual([plain]);
  });

  it('opens payloads sealed under a retired key after a rotation, and seals new ones with the current key', async () => {
    const [old] = await new EncryptionCodec(may).encode([plain]);
    const rotated = new EncryptionCodec({ current: '2026-11', keys: { '2026-11': key(), ...may.keys } });
    expect(text((await rotated.decode([old]))[0])).toBe(text(plain));
    const [fresh] = await rotated.encode([plain]);
    expect(Buffer.from(fresh.metadata!['encryption-key-id']!).toString()).toBe('2026-11');
    await expect(new EncryptionCodec({ current: 'x', keys: { x: key() } }).decode([old])).rejects.toThrow(/key "2026-05"/);
  });

  it('detects tampering with the data or a relabelled key id', async () => {
    const codec = new EncryptionCodec({ current: 'a', keys: { a: key(), b: key() } });
    const [sealed] = await codec.encode([plain]);
    const flipped = Buffer.from(sealed.data!);
    flipped[20] ^= 1;
    await expect(codec.decode([{ ...sealed, data: flipped }])).rejects.toThrow();
    await expect(codec.decode([{ ...sealed, metadata: { ...sealed.metadata, 'encryption-key-id': Buffer.from('b') } }])).rejects.toThrow();
    await expect(codec.decode([{ ...sealed, data: Buffer.alloc(5) }])).rejects.toThrow(/truncated/);
  });
});

describe('parsePayloadKeys', () => {
  const k = randomBytes(32).toString('base64');
  it('reads the current key id and every key', () => {
    const keys = parsePayloadKeys(JSON.stringify({ current: 'b', keys: { a: k, b: k } }));
    expect(keys.current).toBe('b');
    expect(Object.keys(keys.keys)).toEqual(['a', 'b']);
    expect(keys.keys.a).toHaveLength(32);
  });
  it('refuses a file that is not JSON, a short key, or a current key that is missing', () => {
    expect(() => parsePayloadKeys('nope', 'F')).toThrow(/F is not JSON/);
    expect(() => parsePayloadKeys(JSON.stringify({ current: 'a', keys: { a: 'c2hvcnQ=' } }))).toThrow(/32 bytes/);
    expect(() => parsePayloadKeys(JSON.stringify({ current: 'z', keys: { a: k } }))).toThrow(/current names a key/);
  });
});
