// The OpenAPI document, built without servers: every operation declares what it answers, and the
// answers are described field by field (a `{}` or a bare record would let any body through the
// compiler's check of the handlers, and tell a client nothing).
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { AddressSchema as DomainAddressSchema } from '../../domain/address';
import { subdocumentOf, type Db } from '../../infra/db';
import { createApp } from '../../api/app';
import { loadConfig } from '../../infra/config';

type Schema = Record<string, any>;

async function openApiDocument() {
  const app = createApp({ config: loadConfig({ NODE_ENV: 'test' }), db: { models: {} } as Db, temporal: {} as Client, stock: null });
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as {
    paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>;
    components: { schemas: Record<string, Schema> };
  };
}

/** Where, inside an answer's schema, a value is left undescribed: `{}` or an object with no fields. */
function undescribed(schema: Schema, components: Record<string, Schema>, at: string, seen = new Set<string>()): string[] {
  if (schema.$ref) {
    const name = String(schema.$ref).replace('#/components/schemas/', '');
    if (seen.has(name)) return [];
    return undescribed(components[name], components, name, new Set([...seen, name]));
  }
  const parts = [...(schema.allOf ?? []), ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])];
  if (parts.length) return parts.flatMap((p: Schema, i: number) => undescribed(p, components, `${at}|${i}`, seen));
  if ('const' in schema || schema.enum || ['string', 'number', 'integer', 'boolean', 'null'].some((t) => [schema.type].flat().includes(t))) return [];
  if ([schema.type].flat().includes('array')) return undescribed(schema.items ?? {}, components, `${at}[]`, seen);
  if ([schema.type].flat().includes('object')) {
    const fields = Object.entries((schema.properties ?? {}) as Record<string, Schema>);
    const values = schema.additionalProperties;
    const typedValues = typeof values === 'object' && Object.keys(values).length > 0;
    if (!fields.length && !typedValues) return [at];
    return [
      ...fields.flatMap(([k, v]) => undescribed(v, components, `${at}.${k}`, seen)),
      ...(typedValues ? undescribed(values, components, `${at}.*`, seen) : []),
    ];
  }
  return [at];
}

describe('OpenAPI document', () => {
  it('every operation declares a 2xx JSON answer that is a named schema or an object with fields', async () => {
    const doc = await openApiDocument();
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([m, op]) => ({ name: `${m.toUpperCase()} ${path}`, op })),
    );
    expect(operations.length).toBeGreaterThan(30);
    const problems: string[] = [];
    for (const { name, op } of operations) {
      const answers = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
      if (!answers.length) problems.push(`${name}: no 2xx answer`);
      for (const [status, r] of answers) {
        const schema = r.content?.['application/json']?.schema;
        if (!schema) {
          problems.push(`${name} ${status}: no JSON schema`);
          continue;
        }
        if (!schema.$ref && !(schema.type === 'object' && Object.keys(schema.properties ?? {}).length))
          problems.push(`${name} ${status}: neither a $ref nor an object with fields`);
        for (const where of undescribed(schema, doc.components.schemas, `${name} ${status}`)) problems.push(`${where}: undescribed`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every refusal it declares is in the error shape (the adaptor’s 422 is the quarantine report)', async () => {
    const doc = await openApiDocument();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(methods)) {
        for (const [status, r] of Object.entries(op.responses).filter(([s]) => /^[45]\d\d$/.test(s))) {
          const expected = path.startsWith('/api/v1/adaptor/') && status === '422' ? 'IngestResult' : 'Error';
          expect(r.content?.['application/json']?.schema, `${m} ${path} ${status}`).toEqual({ $ref: `#/components/schemas/${expected}` });
        }
      }
    }
  });

  it('describes the order field for field', async () => {
    const { components } = await openApiDocument();
    expect(Object.keys(components.schemas.Order.properties).sort()).toEqual(
      [
        'orderId',
        'accountId',
        'currency',
        'status',
        'createdAt',
        'createdBy',
        'lines',
        'nextLineNumber',
        'delivery',
        'billingMode',
        'fraud',
        'subOrders',
        'sendStarted',
        'cancellationRequested',
        'error',
        'history',
        'charges',
        'invoiceNumber',
        'licences',
        'backorder',
        'errorResolution',
        'resubmissions',
        'cancellation',
        'revision',
        'totals',
        'allowedActions',
        'needsAttention',
      ].sort(),
    );
    expect(components.schemas.DeliveryContact.properties.address).toEqual({ $ref: '#/components/schemas/Address' });
  });
});

describe('Address, defined once', () => {
  it('the database sub-document has the zod schema’s fields, required unless optional or a list', () => {
    const paths = subdocumentOf(DomainAddressSchema).paths;
    const fields = Object.fromEntries(Object.entries(paths).map(([k, p]) => [k, { type: p.instance, required: Boolean(p.isRequired) }]));
    expect(fields).toEqual({
      lines: { type: 'Array', required: false },
      city: { type: 'String', required: true },
      region: { type: 'String', required: false },
      postcode: { type: 'String', required: true },
      country: { type: 'String', required: true },
    });
    expect(Object.keys(fields).sort()).toEqual(Object.keys(DomainAddressSchema.shape).sort());
  });
});
