// Reference data an administrator maintains: products and prices, accounts, the fraud blocklist,
// one record at a time or as CSV files. Writes go by business key and write only a difference
// (infra/reference-data.ts); this process forgets what it cached of a record it wrote, other
// processes see the change within REFERENCE_DATA_TTL_MS.
import { createRoute, z } from '@hono/zod-openapi';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Account, Product } from '../../domain/types';
import { AccountWriteSchema, BlocklistEntrySchema as BlocklistEntryWrite, ProductWriteSchema, REFERENCE_KINDS } from '../../domain/reference-data';
import { referenceDataWriter } from '../../infra/reference-data';
import { importReferenceCsv } from '../../infra/reference-import';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import { apiError } from '../errors';
import {
  AccountIdParam,
  AccountSchema,
  AccountWriteBody,
  BlocklistEntrySchema,
  BlocklistNoteBody,
  BlocklistParams,
  ImportReportSchema,
  ProductSchema,
  ProductWriteBody,
  SkuParam,
  answer,
  itemsOf,
  jsonBody,
  refusal,
} from '../schemas';

/** The largest CSV file one import request may send (a bigger one goes through `npm run import`). */
export const MAX_IMPORT_BYTES = 16 * 1024 * 1024;

const getProduct = createRoute({
  ...roles('admin', 'agent', 'ops'),
  method: 'get',
  path: '/products/{sku}',
  tags: ['reference data'],
  summary: 'One product, active or not',
  request: { params: SkuParam },
  responses: { 200: answer('The product', ProductSchema), 400: refusal('Bad sku'), 404: refusal('No such product') },
});

const putProduct = createRoute({
  ...roles('admin'),
  method: 'put',
  path: '/products/{sku}',
  tags: ['reference data'],
  summary: 'Create or replace a product (active: false retires it; products are never deleted)',
  description: 'A price change applies to lines added from now on: order lines keep the price captured when they were added.',
  request: { params: SkuParam, ...jsonBody(ProductWriteBody) },
  responses: {
    200: answer('Replaced (or already so)', ProductSchema),
    201: answer('Created', ProductSchema),
    400: refusal('Invalid product'),
  },
});

const putAccount = createRoute({
  ...roles('admin'),
  method: 'put',
  path: '/accounts/{accountId}',
  tags: ['reference data'],
  summary: 'Create or replace an account',
  request: { params: AccountIdParam, ...jsonBody(AccountWriteBody) },
  responses: {
    200: answer('Replaced (or already so)', AccountSchema),
    201: answer('Created', AccountSchema),
    400: refusal('Invalid account'),
  },
});

const listBlocklist = createRoute({
  ...roles('admin', 'ops'),
  method: 'get',
  path: '/fraud-blocklist',
  tags: ['reference data'],
  summary: "The built-in fraud rules' blocklist",
  responses: { 200: answer('Entries', itemsOf(BlocklistEntrySchema)) },
});

const putBlocklistEntry = createRoute({
  ...roles('admin'),
  method: 'put',
  path: '/fraud-blocklist/{kind}/{value}',
  tags: ['reference data'],
  summary: 'Add (or re-note) a blocklist entry; fraud checks see it within 30 s',
  request: { params: BlocklistParams, body: { required: false, content: { 'application/json': { schema: BlocklistNoteBody } } } },
  responses: {
    200: answer('Already listed (note updated if given)', BlocklistEntrySchema),
    201: answer('Listed', BlocklistEntrySchema),
    400: refusal('Invalid entry'),
  },
});

const deleteBlocklistEntry = createRoute({
  ...roles('admin'),
  method: 'delete',
  path: '/fraud-blocklist/{kind}/{value}',
  tags: ['reference data'],
  summary: 'Remove a blocklist entry; fraud checks stop seeing it within 30 s',
  request: { params: BlocklistParams },
  responses: {
    200: answer('Removed', z.object({ removed: z.literal(true) })),
    400: refusal('Invalid entry'),
    404: refusal('Not listed'),
  },
});

const postImport = createRoute({
  ...roles('admin'),
  method: 'post',
  path: '/imports/{kind}',
  tags: ['reference data'],
  summary: 'Import products, accounts or blocklist entries from a CSV file (docs/operations.md "Reference data")',
  description:
    'Every row validated and written by its key; the report lists rows created or updated, unchanged and rejected with their line. The same file twice changes nothing.',
  request: {
    params: z.object({ kind: z.enum(REFERENCE_KINDS as ['products', 'accounts', 'blocklist']).openapi({ param: { name: 'kind', in: 'path' } }) }),
    body: { content: { 'text/csv': { schema: z.string() } }, required: true },
  },
  responses: {
    200: answer('Imported: the report', ImportReportSchema),
    400: refusal('An unreadable file (header, CSV syntax, too many rows): details hold the report of the rows before'),
    413: refusal('Too large'),
    415: refusal('Not CSV'),
  },
});

const invalid = (error: { issues: { path: PropertyKey[]; message: string }[] }) =>
  apiError('VALIDATION_FAILED', error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '));

export function referenceDataRoutes({ config, db }: ApiDeps) {
  const r = newRouter();
  const writer = () => referenceDataWriter(db.models, db.reference);

  r.openapi(guarded(config, getProduct), async (c) => {
    const { sku } = c.req.valid('param');
    const product = await db.reference.product(sku);
    if (!product) throw apiError('PRODUCT_NOT_FOUND', `no product ${sku}`);
    return c.json(product, 200);
  });

  r.openapi(guarded(config, putProduct), async (c) => {
    const { sku } = c.req.valid('param');
    const parsed = ProductWriteSchema.safeParse({ ...c.req.valid('json'), sku });
    if (!parsed.success) throw invalid(parsed.error);
    const product: Product = parsed.data;
    const outcome = await writer().product(product);
    return outcome === 'created' ? c.json(product, 201) : c.json(product, 200);
  });

  r.openapi(guarded(config, putAccount), async (c) => {
    const { accountId } = c.req.valid('param');
    const parsed = AccountWriteSchema.safeParse({ ...c.req.valid('json'), accountId });
    if (!parsed.success) throw invalid(parsed.error);
    const account: Account = parsed.data;
    const outcome = await writer().account(account);
    return outcome === 'created' ? c.json(account, 201) : c.json(account, 200);
  });

  r.openapi(guarded(config, listBlocklist), async (c) => {
    const items = await db.models.FraudListEntry.find({}, { _id: 0 }).sort({ kind: 1, value: 1 }).limit(10_000).lean<z.infer<typeof BlocklistEntrySchema>[]>();
    return c.json({ items }, 200);
  });

  r.openapi(guarded(config, putBlocklistEntry), async (c) => {
    const { kind, value } = c.req.valid('param');
    // No body is an entry without a note; a body that is not JSON is refused, never read as "no note".
    const text = await c.req.text();
    let body: unknown = {};
    if (text.trim()) {
      try {
        body = JSON.parse(text);
      } catch {
        throw apiError('VALIDATION_FAILED', 'the body is not JSON');
      }
    }
    const note = BlocklistNoteBody.safeParse(body);
    if (!note.success) throw invalid(note.error);
    const parsed = BlocklistEntryWrite.safeParse({ kind, value, ...note.data });
    if (!parsed.success) throw invalid(parsed.error);
    const outcome = await writer().blocklistEntry(parsed.data);
    return outcome === 'created' ? c.json(parsed.data, 201) : c.json(parsed.data, 200);
  });

  r.openapi(guarded(config, deleteBlocklistEntry), async (c) => {
    const { kind, value } = c.req.valid('param');
    if (!(await writer().removeBlocklistEntry(kind, value))) throw apiError('NOT_FOUND', `no ${kind} entry ${value} on the blocklist`);
    return c.json({ removed: true as const }, 200);
  });

  r.openapi(guarded(config, postImport), async (c) => {
    const { kind } = c.req.valid('param');
    if (!/^(text\/csv|text\/plain|application\/octet-stream)\b/i.test(c.req.header('content-type') ?? ''))
      throw apiError('UNSUPPORTED_MEDIA_TYPE', 'send the file as text/csv');
    if (Number(c.req.header('content-length') ?? 0) > MAX_IMPORT_BYTES)
      throw apiError('PAYLOAD_TOO_LARGE', `import files are limited to ${MAX_IMPORT_BYTES} bytes over HTTP; use npm run import`);
    const raw = c.req.raw.body;
    if (!raw) throw apiError('VALIDATION_FAILED', 'the body is empty');
    const upload = Readable.fromWeb(raw as unknown as WebReadableStream);
    const limited = limitBytes(MAX_IMPORT_BYTES);
    // pipe() does not pass a source error on: an aborted upload must end the import, not hang it.
    upload.once('error', (err) => limited.destroy(err));
    const report = await importReferenceCsv(kind, upload.pipe(limited), writer());
    if (report.error) throw apiError('VALIDATION_FAILED', report.error, report);
    return c.json(report, 200);
  });
  return r;
}

/** Fails the stream past `max` bytes (a chunked body has no content-length to check first). */
function limitBytes(max: number) {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > max) done(apiError('PAYLOAD_TOO_LARGE', `import files are limited to ${max} bytes over HTTP; use npm run import`));
      else done(null, chunk);
    },
  });
}
