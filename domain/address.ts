// A postal address, defined once: this zod schema. The domain type is inferred from it, the API's
// `Address` component adds only OpenAPI metadata (api/schemas.ts) and the database's
// sub-document is derived from its fields (infra/db.ts).
import { z } from 'zod';
import { freeText } from './free-text';

export const AddressSchema = z
  .object({
    lines: z
      .array(freeText(100, { min: 0 }))
      .min(1)
      .max(4),
    city: freeText(60),
    region: freeText(60, { min: 0 }).optional(),
    postcode: freeText(16),
    country: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 country code'),
  })
  .strict();

export type Address = z.infer<typeof AddressSchema>;
