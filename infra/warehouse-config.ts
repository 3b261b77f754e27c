// How each warehouse exchanges files: sales orders out and response files in, each over the local
// folder (the default, and the simulator's), SFTP or HTTP. Read once at start from the YAML or
// JSON file named by WAREHOUSES_FILE, validated here; a warehouse the file leaves out uses the
// folders. Secrets stay in their own files: the configuration keeps their paths (relative ones
// are taken from the file's folder) and checks at start that they can be read; the transports
// read them when they connect, so a rotated key needs no restart and no secret sits in the config.
import { msToNumber, type Duration } from '@temporalio/common';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/** An OpenSSH host-key fingerprint as `ssh-keygen -lf key.pub` prints it: SHA256 and unpadded base64. */
const Fingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be an OpenSSH SHA256 fingerprint, e.g. "SHA256:…" as `ssh-keygen -lf` prints it');
const SecretFile = z.string().min(1);
const Millis = z.number().int().positive();

const SftpSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1),
    /** One of privateKeyFile (OpenSSH or PEM key; passphraseFile if it is encrypted) or passwordFile. */
    privateKeyFile: SecretFile.optional(),
    passphraseFile: SecretFile.optional(),
    passwordFile: SecretFile.optional(),
    /** The server's key, or several while the warehouse rotates it; any other key is refused. */
    hostKeyFingerprint: z.union([Fingerprint, z.array(Fingerprint).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
    /** The SSH handshake, and then each piece of SFTP work: an upload, a listing, a download, a move. */
    connectTimeoutMs: Millis.default(10_000),
    timeoutMs: Millis.default(30_000),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (!s.privateKeyFile && !s.passwordFile) ctx.addIssue({ code: 'custom', path: ['privateKeyFile'], message: 'give privateKeyFile or passwordFile' });
    if (s.passphraseFile && !s.privateKeyFile) ctx.addIssue({ code: 'custom', path: ['passphraseFile'], message: 'needs privateKeyFile' });
  });

const RemotePath = z.string().regex(/^\/./, 'must be an absolute remote path');

const SalesOrdersSchema = z.discriminatedUnion('transport', [
  z.object({ transport: z.literal('folder') }).strict(),
  /** Uploaded into `path` under a temporary name, then renamed (never over an existing file). */
  z.object({ transport: z.literal('sftp'), path: RemotePath }).strict(),
  /** POSTed to `url` with the file id as Idempotency-Key and, if given, the header whose value is in authHeaderFile. */
  z
    .object({
      transport: z.literal('http'),
      url: z.url(),
      authHeaderName: z.string().min(1).default('authorization'),
      authHeaderFile: SecretFile.optional(),
      timeoutMs: Millis.default(10_000),
    })
    .strict(),
]);

const ResponsesSchema = z.discriminatedUnion('transport', [
  z.object({ transport: z.literal('folder') }).strict(),
  /** `path` polled every pollMs; each file moved to `processedPath` once the adaptor has stored it. */
  z.object({ transport: z.literal('sftp'), path: RemotePath, processedPath: RemotePath, pollMs: Millis.default(30_000) }).strict(),
  /** The warehouse POSTs its files to /api/v1/adaptor/warehouse-files: nothing to poll. */
  z.object({ transport: z.literal('http') }).strict(),
]);

/** A Temporal duration such as '5 days' or '36h', at least a second. */
const Sla = z.string().refine(
  (v) => {
    try {
      return msToNumber(v as Duration) >= 1000;
    } catch {
      return false;
    }
  },
  { message: "a duration such as '5 days' or '36h', at least 1 s" },
);

const WarehouseSchema = z
  .object({
    /** This warehouse's dispatch SLA, instead of DISPATCH_SLA. */
    dispatchSla: Sla.optional(),
    sftp: SftpSchema.optional(),
    salesOrders: SalesOrdersSchema.default({ transport: 'folder' }),
    responses: ResponsesSchema.default({ transport: 'folder' }),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (!w.sftp && (w.salesOrders.transport === 'sftp' || w.responses.transport === 'sftp'))
      ctx.addIssue({
        code: 'custom',
        path: ['sftp'],
        message: 'the sftp connection (host, username, credentials, hostKeyFingerprint) is required by an sftp transport',
      });
    if (w.responses.transport === 'sftp' && w.responses.path === w.responses.processedPath)
      ctx.addIssue({ code: 'custom', path: ['responses', 'processedPath'], message: 'must differ from path' });
  });

const FileSchema = z.object({ warehouses: z.record(z.string(), WarehouseSchema) }).strict();

export type SftpSettings = z.infer<typeof SftpSchema>;
export type WarehouseExchange = z.infer<typeof WarehouseSchema>;
export type SalesOrderExchange = WarehouseExchange['salesOrders'];
export type ResponseExchange = WarehouseExchange['responses'];

const FOLDERS: WarehouseExchange = { salesOrders: { transport: 'folder' }, responses: { transport: 'folder' } };

export class WarehouseConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WarehouseConfigError';
  }
}

/** Every warehouse's exchange: from the file when one is named, the local folders otherwise. */
export function loadWarehouseExchanges(file: string | undefined, warehouseIds: string[], production = false): Record<string, WarehouseExchange> {
  const all = Object.fromEntries(warehouseIds.map((id) => [id, FOLDERS]));
  if (!file) return all;
  const where = `WAREHOUSES_FILE ${file}`;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new WarehouseConfigError(`${where}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return { ...all, ...parseWarehouseExchanges(text, { where, baseDir: path.dirname(path.resolve(file)), warehouseIds, production }) };
}

/** The file's warehouses, validated, with secret paths made absolute and checked readable. */
export function parseWarehouseExchanges(
  text: string,
  /** production: sales orders (customers' names and addresses) and their auth header go over https only. */
  o: { where: string; baseDir: string; warehouseIds: string[]; checkSecrets?: boolean; production?: boolean },
): Record<string, WarehouseExchange> {
  let raw: unknown;
  try {
    raw = parse(text); // YAML, and so JSON too
  } catch (err) {
    throw new WarehouseConfigError(`${o.where}: not valid YAML or JSON: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
    throw new WarehouseConfigError(`${o.where}: ${issues}`);
  }
  const out: Record<string, WarehouseExchange> = {};
  for (const [id, w] of Object.entries(parsed.data.warehouses)) {
    if (!o.warehouseIds.includes(id)) throw new WarehouseConfigError(`${o.where}: warehouses.${id}: not one of WAREHOUSES (${o.warehouseIds.join(', ')})`);
    const secret = (field: string, p: string | undefined) => {
      if (p === undefined) return undefined;
      const abs = path.resolve(o.baseDir, p);
      if (o.checkSecrets !== false) checkSecretFile(abs, `${o.where}: warehouses.${id}.${field}`);
      return abs;
    };
    const sftp = w.sftp && {
      ...w.sftp,
      privateKeyFile: secret('sftp.privateKeyFile', w.sftp.privateKeyFile),
      passphraseFile: secret('sftp.passphraseFile', w.sftp.passphraseFile),
      passwordFile: secret('sftp.passwordFile', w.sftp.passwordFile),
    };
    if (o.production && w.salesOrders.transport === 'http' && new URL(w.salesOrders.url).protocol !== 'https:')
      throw new WarehouseConfigError(`${o.where}: warehouses.${id}.salesOrders.url: NODE_ENV=production sends sales orders over https only`);
    const salesOrders =
      w.salesOrders.transport === 'http'
        ? { ...w.salesOrders, authHeaderFile: secret('salesOrders.authHeaderFile', w.salesOrders.authHeaderFile) }
        : w.salesOrders;
    out[id] = { ...(w.dispatchSla ? { dispatchSla: w.dispatchSla } : {}), ...(sftp ? { sftp } : {}), salesOrders, responses: w.responses };
  }
  return out;
}

function checkSecretFile(file: string, what: string): void {
  let size: number;
  try {
    size = fs.statSync(file).size;
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    throw new WarehouseConfigError(`${what}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (size === 0) throw new WarehouseConfigError(`${what}: ${file} is empty`);
}

/** A secret's value, read when needed (never logged); a trailing newline from `echo` is not part of it. */
export function readSecret(file: string): string {
  return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}
