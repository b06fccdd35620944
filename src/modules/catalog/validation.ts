// Input rules for catalog mutations. Each schema turns raw GraphQL input into clean values or user errors.
import slugify from '@sindresorhus/slugify';
import { z } from 'zod';
import { toMinorUnits } from '../../money.js';

const MAX_MINOR_UNITS = 2_147_483_647;
export const MAX_VARIANTS_PER_PRODUCT = 100;

const required = (what: string, max: number) =>
  z.string().trim().min(1, `${what} cannot be blank.`).max(max, `${what} must be at most ${max} characters.`);

export const slugFrom = (text: string): string => slugify(text).slice(0, 255).replace(/-+$/, '');

const slug = z
  .string()
  .max(255, 'Slug must be at most 255 characters.')
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'Slug may contain only lowercase letters, digits and single hyphens.');

const description = z.string().max(10_000, 'Description must be at most 10,000 characters.');

/** A Decimal price in the store currency as minor units. */
const price = (currency: string) =>
  z.string().transform((value, ctx) => {
    const minor = toMinorUnits(value, currency);
    if (minor === null)
      ctx.addIssue({ code: 'custom', message: `Price has more decimal places than ${currency} allows.` });
    else if (minor < 0) ctx.addIssue({ code: 'custom', message: 'Price cannot be negative.' });
    else if (minor > MAX_MINOR_UNITS) ctx.addIssue({ code: 'custom', message: 'Price is too large.' });
    else return minor;
    return z.NEVER;
  });

const selectedOptions = z
  .array(z.object({ name: required('Option name', 255), value: required('Option value', 255) }))
  .max(3, 'A variant has at most 3 options.')
  .refine((options) => new Set(options.map((o) => o.name.toLowerCase())).size === options.length, {
    message: 'Option names must be different.',
  });

const categoryIds = z
  .array(z.string())
  .max(50, 'A product is in at most 50 categories.')
  .transform((ids) => [...new Set(ids)]);

const optional = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

export const variantFields = (currency: string) =>
  z.object({
    sku: required('SKU', 64),
    title: optional(required('Title', 255)),
    price: price(currency),
    compareAtPrice: optional(price(currency)),
    selectedOptions: optional(selectedOptions),
    inventoryQuantity: optional(z.number().int().min(0, 'Inventory quantity cannot be negative.')),
  });

export const variantChanges = (currency: string) =>
  z.object({
    sku: optional(required('SKU', 64)),
    title: optional(required('Title', 255)),
    price: optional(price(currency)),
    // null clears the compare-at price, so it is kept apart from "left out"
    compareAtPrice: price(currency).nullable().optional(),
    selectedOptions: optional(selectedOptions),
  });

export const productFields = (currency: string) =>
  z.object({
    title: required('Title', 255),
    slug: optional(slug),
    description: optional(description),
    categoryIds: optional(categoryIds),
    variants: optional(
      z.array(variantFields(currency)).max(MAX_VARIANTS_PER_PRODUCT, `At most ${MAX_VARIANTS_PER_PRODUCT} variants.`),
    ),
  });

export const productChanges = z.object({
  title: optional(required('Title', 255)),
  slug: optional(slug),
  description: optional(description),
  categoryIds: optional(categoryIds),
});

export const categoryFields = z.object({
  name: required('Name', 255),
  slug: optional(slug),
  description: optional(description),
  parentId: optional(z.string()),
});

export const categoryChanges = z.object({
  name: optional(required('Name', 255)),
  slug: optional(slug),
  description: optional(description),
  parentId: z.string().nullable().optional(),
});

export const variantTitle = (options: { value: string }[] | undefined): string =>
  options?.length ? options.map((o) => o.value).join(' / ') : 'Default';
