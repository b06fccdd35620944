import { describe, expect, it } from 'vitest';
import { generateCatalog, toSlug } from './catalog.js';

const KEBAB_CASE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('generateCatalog', () => {
  const catalog = generateCatalog({ products: 3_000, seed: 7 });

  it('gives identical rows for the same options', () => {
    expect(JSON.stringify(generateCatalog({ products: 300, seed: 7 }))).toBe(
      JSON.stringify(generateCatalog({ products: 300, seed: 7 })),
    );
  });

  it('gives different rows for a different seed', () => {
    const titles = (seed: number) => generateCatalog({ products: 50, seed }).products.map((product) => product.title);
    expect(titles(1)).not.toEqual(titles(2));
  });

  it('uses a default seed when none is given', () => {
    expect(generateCatalog({ products: 20 })).toEqual(generateCatalog({ products: 20 }));
  });

  it('creates exactly the requested number of products', () => {
    expect(catalog.products).toHaveLength(3_000);
    expect(generateCatalog({ products: 0 }).products).toHaveLength(0);
  });

  it('builds a two-level category tree with unique kebab-case slugs', () => {
    const topLevel = catalog.categories.filter((category) => category.parentId === null);
    const ids = new Set(catalog.categories.map((category) => category.id));
    expect(topLevel).toHaveLength(8);
    for (const parent of topLevel) {
      const children = catalog.categories.filter((category) => category.parentId === parent.id);
      expect(children.length).toBeGreaterThanOrEqual(2);
      expect(children.length).toBeLessThanOrEqual(4);
      for (const child of children) expect(child.slug.startsWith(`${parent.slug}-`)).toBe(true);
    }
    expect(catalog.categories.every((category) => category.parentId === null || ids.has(category.parentId))).toBe(true);
    expect(new Set(catalog.categories.map((category) => category.slug)).size).toBe(catalog.categories.length);
    expect(catalog.categories.every((category) => KEBAB_CASE.test(category.slug))).toBe(true);
  });

  it('gives products unique titles, unique kebab-case slugs and searchable descriptions', () => {
    expect(new Set(catalog.products.map((product) => product.title)).size).toBe(3_000);
    expect(new Set(catalog.products.map((product) => product.slug)).size).toBe(3_000);
    expect(catalog.products.every((product) => KEBAB_CASE.test(product.slug))).toBe(true);
    expect(catalog.products.every((product) => product.description.split(' ').length >= 6)).toBe(true);
    expect(new Set([...catalog.categories, ...catalog.products].map((row) => row.id)).size).toBe(
      catalog.categories.length + 3_000,
    );
    expect(catalog.products.every((product) => UUID.test(product.id))).toBe(true);
  });

  it('assigns every product to one subcategory, sometimes two', () => {
    const subcategoryIds = new Set(catalog.categories.filter((c) => c.parentId !== null).map((c) => c.id));
    const countsByProduct = new Map<string, number>();
    expect(catalog.productCategories.every((row) => subcategoryIds.has(row.categoryId))).toBe(true);
    for (const { productId } of catalog.productCategories) {
      countsByProduct.set(productId, (countsByProduct.get(productId) ?? 0) + 1);
    }
    const counts = catalog.products.map((product) => countsByProduct.get(product.id));
    expect(counts.every((count) => count === 1 || count === 2)).toBe(true);
    expect(counts.filter((count) => count === 2).length).toBeGreaterThan(0);
    const pairs = catalog.productCategories.map((row) => `${row.productId}/${row.categoryId}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it('gives each product 1-6 variants with unique SKUs and positions 0..n-1', () => {
    expect(new Set(catalog.variants.map((variant) => variant.sku)).size).toBe(catalog.variants.length);
    const positionsByProduct = new Map(catalog.products.map((product) => [product.id, [] as number[]]));
    for (const variant of catalog.variants) positionsByProduct.get(variant.productId)!.push(variant.position);
    for (const positions of positionsByProduct.values()) {
      expect(positions.length).toBeGreaterThanOrEqual(1);
      expect(positions.length).toBeLessThanOrEqual(6);
      expect(positions).toEqual(positions.map((_, index) => index));
    }
  });

  it('titles variants after their option values, or "Default" without options', () => {
    const expectedTitle = (options: { value: string }[]) =>
      options.map((option) => option.value).join(' / ') || 'Default';
    expect(catalog.variants.filter((variant) => variant.title !== expectedTitle(variant.selectedOptions))).toEqual([]);
    expect(catalog.variants.some((variant) => variant.selectedOptions.length === 0)).toBe(true);
    expect(catalog.variants.some((variant) => variant.selectedOptions.length === 2)).toBe(true);
  });

  it('prices variants in whole cents between 500 and 50,000 ending in 49 or 99', () => {
    const badPrices = catalog.variants.filter(
      ({ priceAmount: price }) =>
        !Number.isInteger(price) || price < 500 || price > 50_000 || ![49, 99].includes(price % 100),
    );
    const badCompareAts = catalog.variants.filter(
      ({ priceAmount, compareAtAmount }) =>
        compareAtAmount !== null && (!Number.isInteger(compareAtAmount) || compareAtAmount <= priceAmount),
    );
    expect(badPrices).toEqual([]);
    expect(badCompareAts).toEqual([]);
    expect(catalog.variants.some((variant) => variant.compareAtAmount !== null)).toBe(true);
  });

  it('keeps stock within 0-200 with about 10% of variants sold out', () => {
    const stock = catalog.variants.map((variant) => variant.stockOnHand);
    expect(stock.every((units) => Number.isInteger(units) && units >= 0 && units <= 200)).toBe(true);
    const soldOutShare = stock.filter((units) => units === 0).length / stock.length;
    expect(soldOutShare).toBeGreaterThan(0.06);
    expect(soldOutShare).toBeLessThan(0.14);
  });
});

describe('toSlug', () => {
  it('turns names into kebab case', () => {
    expect(toSlug('Home & Kitchen')).toBe('home-and-kitchen');
    expect(toSlug('Classic Cotton T-Shirt 2')).toBe('classic-cotton-t-shirt-2');
  });
});
