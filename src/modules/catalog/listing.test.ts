// What a product page statement fetches for a selection: FIELD_READS, read through the lookahead.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFilesSync } from '@graphql-tools/load-files';
import { mergeTypeDefs } from '@graphql-tools/merge';
import {
  buildASTSchema,
  isObjectType,
  Kind,
  parse,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { fieldsBelow, nodeSelection } from '../../graphql/lookahead.js';
import { FIELD_READS, pageColumns } from './listing.js';
import { ALL_COLUMNS, mergeColumns, type PageColumns } from './pageColumns.js';

/** The columns a page fetches for the first top-level field of `source` (a product connection). */
function columnsFor(source: string, variableValues: Record<string, unknown> = {}): PageColumns {
  const document = parse(source);
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  )!;
  const fragments = Object.fromEntries(
    document.definitions
      .filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
      .map((fragment) => [fragment.name.value, fragment]),
  );
  const context = { fragments, variableValues };
  const [fieldNodes] = fieldsBelow([{ selectionSet: operation.selectionSet } as FieldNode], context).values();
  return pageColumns(nodeSelection({ fieldNodes: fieldNodes!, ...context }), context);
}

describe('pageColumns', () => {
  it("fetches, for the issue's page, the title, slug, and the variants' and categories' keys it shows", () => {
    expect(
      columnsFor(`{ products(first: 50) { nodes {
        title slug variants { sku price { amount currencyCode } availableForSale } categories { name } } } }`),
    ).toEqual({
      product: ['title', 'slug'],
      variants: ['sku', 'priceAmount', 'stockOnHand', 'stockReserved'],
      categories: ['name'],
    });
  });

  it("fetches, for the benchmark's page, no description, timestamps, product IDs or positions", () => {
    expect(
      columnsFor(`{ products(first: 50) { nodes { id title slug availableForSale
        priceRange { minVariantPrice { amount currencyCode } maxVariantPrice { amount currencyCode } }
        variants { id sku title availableForSale price { amount currencyCode } compareAtPrice { amount currencyCode }
          selectedOptions { name value } }
        categories { id name slug } } } }`),
    ).toEqual({
      product: ['title', 'slug'],
      variants: ['sku', 'title', 'priceAmount', 'compareAtAmount', 'selectedOptions', 'stockOnHand', 'stockReserved'],
      categories: ['name', 'slug'],
    });
  });

  it('fetches only keys, and no relation, for IDs, counts and cursors', () => {
    expect(
      columnsFor('{ products { totalCount pageInfo { endCursor } edges { cursor node { id __typename } } } }'),
    ).toEqual({ product: [], variants: null, categories: null });
  });

  it("fetches the variants' prices for priceRange and their stock for availableForSale, without selecting variants", () => {
    expect(columnsFor('{ products { nodes { priceRange { minVariantPrice { amount } } } } }')).toEqual({
      product: [],
      variants: ['priceAmount'],
      categories: null,
    });
    expect(columnsFor('{ products { nodes { availableForSale } } }').variants).toEqual([
      'stockOnHand',
      'stockReserved',
    ]);
  });

  it('fetches the IDs the loaders of nested objects take', () => {
    expect(
      columnsFor(`{ products { nodes {
        variants { product { description } inventory { onHand } inventoryHistory { totalCount } }
        categories { parent { name } children { name } products { totalCount } } } } }`),
    ).toEqual({ product: [], variants: ['productId', 'stockOnHand', 'stockReserved'], categories: ['parentId'] });
  });

  it('fetches description and timestamps when they are selected, through fragments and edges', () => {
    expect(
      columnsFor(`{ products { edges { node { ...product } } } }
        fragment product on Product { ... on Product { description createdAt updatedAt } categories { description } }`),
    ).toEqual({ product: ['description', 'createdAt', 'updatedAt'], variants: null, categories: ['description'] });
  });

  it('follows @include and @skip with the operation variables', () => {
    const source = `query ($full: Boolean!) { products { nodes { title ...full @include(if: $full) } } }
      fragment full on Product { description variants @skip(if: false) { sku } }`;
    expect(columnsFor(source, { full: false })).toEqual({ product: ['title'], variants: null, categories: null });
    expect(columnsFor(source, { full: true })).toEqual({
      product: ['title', 'description'],
      variants: ['sku'],
      categories: null,
    });
  });

  it('fetches every column of an object when a field it does not know is selected on it', () => {
    expect(columnsFor('{ products { nodes { title sparkle } } }').product).toEqual(ALL_COLUMNS.product);
    expect(columnsFor('{ products { nodes { variants { sparkle } } } }').variants).toEqual(ALL_COLUMNS.variants);
    expect(columnsFor('{ products { nodes { categories { sparkle } } } }').categories).toEqual(ALL_COLUMNS.categories);
  });
});

describe('mergeColumns', () => {
  it('fetches what either page reads, in the canonical order', () => {
    expect(
      mergeColumns(
        { product: ['slug'], variants: ['stockOnHand', 'stockReserved'], categories: null },
        { product: ['title', 'createdAt'], variants: ['sku'], categories: ['name'] },
      ),
    ).toEqual({
      product: ['title', 'slug', 'createdAt'],
      variants: ['sku', 'stockOnHand', 'stockReserved'],
      categories: ['name'],
    });
  });
});

describe('FIELD_READS', () => {
  it('names every field of Product, ProductVariant and Category in the schema, and no other', () => {
    const schemaDir = fileURLToPath(new URL('../../../schema', import.meta.url));
    const schema = buildASTSchema(mergeTypeDefs(loadFilesSync(path.join(schemaDir, '*.graphql'))));
    for (const [name, reads] of Object.entries(FIELD_READS)) {
      const type = schema.getType(name);
      if (!isObjectType(type)) throw new Error(`${name} is not an object type`);
      expect(Object.keys(reads).sort(), name).toEqual(Object.keys(type.getFields()).sort());
    }
  });
});
