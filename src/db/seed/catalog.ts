import type { Prisma, PrismaClient } from '../../generated/prisma/client.js';

export type SelectedOption = { name: string; value: string };
export type CategoryRow = { id: string; name: string; slug: string; description: string; parentId: string | null };
export type ProductRow = { id: string; title: string; slug: string; description: string };
export type ProductCategoryRow = { productId: string; categoryId: string };
export type VariantRow = {
  productId: string;
  sku: string;
  title: string;
  priceAmount: number;
  compareAtAmount: number | null;
  selectedOptions: SelectedOption[];
  stockOnHand: number;
  position: number;
};
export type CatalogRows = {
  categories: CategoryRow[];
  products: ProductRow[];
  productCategories: ProductCategoryRow[];
  variants: VariantRow[];
};
export type CatalogCounts = { categories: number; products: number; variants: number };
export type CatalogOptions = { products: number; seed?: number };

const DEFAULT_SEED = 42;
const BATCH_SIZE = 1_000;

type DepartmentName = keyof typeof DEPARTMENTS;
/** Each value further along the axis adds priceStep whole dollars (bigger bottle, more storage). */
type OptionAxis = { name: string; values: string[]; priceStep: number };
type Subcategory = { department: DepartmentName; name: string; nouns: string[]; axes: OptionAxis[] };
/** materialVerb joins noun and material in descriptions: "hoodie made from fleece", "cookbook all about sourdough". */
type Department = { dollars: [min: number, max: number]; materialVerb: string; adjectives: string[] };

const STYLE = ['Classic', 'Essential', 'Everyday', 'Premium', 'Vintage', 'Modern', 'Lightweight', 'Heritage', 'Rugged'];
const CARE = ['Gentle', 'Daily', 'Hydrating', 'Radiant', 'Pure', 'Soothing', 'Nourishing'];
const BOOKISH = ['Complete', 'Illustrated', 'Essential', 'Pocket', 'Modern', 'Little', 'Practical'];
const COLOURS = ['Black', 'White', 'Navy', 'Charcoal', 'Olive', 'Sage', 'Rust', 'Sand', 'Burgundy', 'Sky Blue'];

const COLOR: OptionAxis = { name: 'Color', values: COLOURS, priceStep: 0 };
const SIZE: OptionAxis = { name: 'Size', values: ['XS', 'S', 'M', 'L', 'XL', 'XXL'], priceStep: 0 };
const SHOE_SIZE: OptionAxis = { name: 'Size', values: ['6', '7', '8', '9', '10', '11', '12'], priceStep: 0 };
const HOME_SIZE: OptionAxis = { name: 'Size', values: ['Small', 'Medium', 'Large'], priceStep: 12 };
const CAPACITY: OptionAxis = { name: 'Capacity', values: ['64 GB', '128 GB', '256 GB', '512 GB'], priceStep: 30 };
const PACK_VOLUME: OptionAxis = { name: 'Capacity', values: ['20 L', '30 L', '40 L', '55 L'], priceStep: 15 };
const VOLUME: OptionAxis = { name: 'Size', values: ['30 ml', '50 ml', '100 ml', '200 ml'], priceStep: 8 };
const FORMAT: OptionAxis = { name: 'Format', values: ['Paperback', 'Hardcover', 'Audiobook'], priceStep: 6 };

const DEPARTMENTS = {
  Apparel: { dollars: [12, 180], materialVerb: 'made from', adjectives: STYLE },
  Footwear: { dollars: [25, 240], materialVerb: 'made from', adjectives: STYLE },
  'Home & Kitchen': { dollars: [8, 320], materialVerb: 'made from', adjectives: STYLE },
  Electronics: { dollars: [15, 380], materialVerb: 'built from', adjectives: STYLE },
  Outdoors: { dollars: [20, 420], materialVerb: 'made from', adjectives: STYLE },
  Beauty: { dollars: [6, 110], materialVerb: 'made with', adjectives: CARE },
  Toys: { dollars: [7, 150], materialVerb: 'made from', adjectives: STYLE },
  Books: { dollars: [5, 48], materialVerb: 'all about', adjectives: BOOKISH },
} satisfies Record<string, Department>;
const MATERIALS: Record<DepartmentName, string[]> = {
  Apparel: ['Cotton', 'Organic Cotton', 'Linen', 'Merino', 'Fleece', 'Denim'],
  Footwear: ['Leather', 'Suede', 'Canvas', 'Knit Mesh', 'Recycled Rubber'],
  'Home & Kitchen': ['Ceramic', 'Stainless Steel', 'Oak', 'Bamboo', 'Cast Iron', 'Stoneware'],
  Electronics: ['Aluminum', 'Carbon Fiber', 'Recycled Plastic', 'Tempered Glass'],
  Outdoors: ['Ripstop Nylon', 'Aluminum', 'Polyester', 'Waxed Canvas', 'Titanium'],
  Beauty: ['Shea Butter', 'Aloe', 'Argan Oil', 'Green Tea', 'Charcoal', 'Rosewater'],
  Toys: ['Wood', 'Felt', 'Cotton Plush', 'Recycled Plastic'],
  Books: ['Sourdough', 'Vegetarian', 'Garden', 'Mountain', 'Ocean', 'History'],
};
const USES: Record<DepartmentName, string[]> = {
  Apparel: ['everyday wear', 'layering', 'travel', 'lounging', 'the gym'],
  Footwear: ['walking', 'travel', 'the office', 'weekends', 'summer evenings'],
  'Home & Kitchen': ['cooking', 'entertaining', 'meal prep', 'small kitchens', 'gifting'],
  Electronics: ['gaming', 'music', 'the home office', 'travel', 'photography'],
  Outdoors: ['camping', 'hiking', 'backpacking', 'picnics', 'festivals'],
  Beauty: ['dry skin', 'daily care', 'sensitive skin', 'gifting', 'travel'],
  Toys: ['toddlers', 'family game night', 'birthdays', 'rainy days'],
  Books: ['beginners', 'gift giving', 'weekend reading', 'book clubs'],
};
const SUBCATEGORIES: Subcategory[] = [
  { department: 'Apparel', name: 'T-Shirts', nouns: ['T-Shirt', 'Crew Tee', 'V-Neck Tee'], axes: [SIZE, COLOR] },
  { department: 'Apparel', name: 'Hoodies', nouns: ['Hoodie', 'Zip Hoodie', 'Pullover'], axes: [SIZE, COLOR] },
  { department: 'Apparel', name: 'Jackets', nouns: ['Jacket', 'Parka', 'Windbreaker'], axes: [SIZE, COLOR] },
  { department: 'Footwear', name: 'Sneakers', nouns: ['Sneaker', 'Trainer', 'Runner'], axes: [SHOE_SIZE, COLOR] },
  { department: 'Footwear', name: 'Boots', nouns: ['Boot', 'Chelsea Boot', 'Hiking Boot'], axes: [SHOE_SIZE, COLOR] },
  { department: 'Footwear', name: 'Sandals', nouns: ['Sandal', 'Slide', 'Flip-Flop'], axes: [SHOE_SIZE] },
  { department: 'Home & Kitchen', name: 'Cookware', nouns: ['Skillet', 'Saucepan', 'Dutch Oven'], axes: [HOME_SIZE] },
  { department: 'Home & Kitchen', name: 'Tableware', nouns: ['Mug', 'Bowl Set', 'Plate Set'], axes: [COLOR] },
  { department: 'Home & Kitchen', name: 'Storage', nouns: ['Canister', 'Jar', 'Bread Box'], axes: [HOME_SIZE, COLOR] },
  { department: 'Home & Kitchen', name: 'Decor', nouns: ['Vase', 'Candle Holder', 'Wall Clock'], axes: [] },
  { department: 'Electronics', name: 'Storage Drives', nouns: ['SSD', 'Flash Drive', 'SD Card'], axes: [CAPACITY] },
  { department: 'Electronics', name: 'Audio', nouns: ['Headphones', 'Earbuds', 'Speaker'], axes: [COLOR] },
  { department: 'Electronics', name: 'Accessories', nouns: ['Charger', 'Power Bank', 'USB-C Hub'], axes: [] },
  { department: 'Outdoors', name: 'Camping', nouns: ['Tent', 'Sleeping Bag', 'Camp Chair'], axes: [COLOR] },
  { department: 'Outdoors', name: 'Backpacks', nouns: ['Backpack', 'Daypack', 'Duffel'], axes: [PACK_VOLUME, COLOR] },
  { department: 'Outdoors', name: 'Camp Kitchen', nouns: ['Camp Stove', 'Cook Set', 'Water Bottle'], axes: [] },
  { department: 'Beauty', name: 'Skincare', nouns: ['Face Serum', 'Moisturizer', 'Cleanser'], axes: [VOLUME] },
  { department: 'Beauty', name: 'Haircare', nouns: ['Shampoo', 'Conditioner', 'Hair Mask'], axes: [VOLUME] },
  { department: 'Beauty', name: 'Fragrance', nouns: ['Eau de Parfum', 'Body Mist'], axes: [VOLUME] },
  { department: 'Toys', name: 'Building Sets', nouns: ['Block Set', 'Marble Run', 'Construction Kit'], axes: [] },
  { department: 'Toys', name: 'Puzzles & Games', nouns: ['Puzzle', 'Board Game', 'Card Game'], axes: [] },
  { department: 'Toys', name: 'Plush Toys', nouns: ['Teddy Bear', 'Bunny', 'Dinosaur'], axes: [COLOR] },
  { department: 'Books', name: 'Cookbooks', nouns: ['Cookbook', 'Recipe Collection'], axes: [FORMAT] },
  { department: 'Books', name: 'Travel Guides', nouns: ['Travel Guide', 'Atlas', 'Field Guide'], axes: [FORMAT] },
  { department: 'Books', name: 'Notebooks', nouns: ['Notebook', 'Journal', 'Sketchbook'], axes: [] },
];

type Random = () => number;

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const randomInt = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** Version-4-shaped uuids drawn from a seeded stream, so rows can reference each other before they are inserted. */
function createUuidSource(seed: number): () => string {
  const random = createRandom(seed ^ 0x5eed1d5);
  const toHex = (word: number) => word.toString(16).padStart(8, '0');
  const hexWord = () => toHex(Math.floor(random() * 2 ** 32));
  return () => {
    const [a, b, c, d] = [hexWord(), hexWord(), hexWord(), hexWord()];
    const variant = pick(random, ['8', '9', 'a', 'b']);
    return `${a}-${b.slice(0, 4)}-4${b.slice(5)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
  };
}

/** Distinct values kept in their original order, so sizes read S, M, L. */
function pickSubset(random: Random, values: string[], count: number): string[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, values.length)) chosen.add(Math.floor(random() * values.length));
  return values.filter((_, index) => chosen.has(index));
}

export function toSlug(text: string): string {
  const words = text.toLowerCase().replace(/&/g, ' and ');
  return (words.match(/[a-z0-9]+/g) ?? []).join('-');
}

const subcategorySlug = (sub: Subcategory) => `${toSlug(sub.department)}-${toSlug(sub.name)}`;

function buildCategoryTree(nextId: () => string): CategoryRow[] {
  return (Object.keys(DEPARTMENTS) as DepartmentName[]).flatMap((department) => {
    const subs = SUBCATEGORIES.filter((sub) => sub.department === department);
    const description = `${department}: ${subs.map((sub) => sub.name.toLowerCase()).join(', ')}.`;
    const parent = { id: nextId(), name: department, slug: toSlug(department), description, parentId: null };
    const children = subs.map((sub) => {
      const forUses = `${sub.name} for ${USES[department].slice(0, 2).join(' and ')}.`;
      return { id: nextId(), name: sub.name, slug: subcategorySlug(sub), description: forUses, parentId: parent.id };
    });
    return [parent, ...children];
  });
}

/** 1-6 combinations: up to 6 values of a lone axis, or up to 3 x 2 values of two axes. No axes gives one empty set. */
function pickOptionCombinations(random: Random, axes: OptionAxis[]): SelectedOption[][] {
  const counts = axes.length === 1 ? [randomInt(random, 1, 6)] : [randomInt(random, 1, 3), randomInt(random, 1, 2)];
  return axes.reduce<SelectedOption[][]>(
    (combinations, axis, axisIndex) => {
      const values = pickSubset(random, axis.values, counts[axisIndex]!);
      return combinations.flatMap((combination) => values.map((value) => [...combination, { name: axis.name, value }]));
    },
    [[]],
  );
}

const optionSurcharge = (axes: OptionAxis[], options: SelectedOption[]) =>
  axes.reduce((sum, axis, index) => sum + axis.values.indexOf(options[index]!.value) * axis.priceStep, 0);

/** Whole dollars clamped to $5-$499, then x.49 or x.99: always within 500-50,000 cents. */
const toPriceAmount = (dollars: number, cents: 49 | 99) => Math.min(Math.max(dollars, 5), 499) * 100 + cents;

type ProductDraft = { id: string; number: number; sub: Subcategory; adjective: string; material: string; noun: string };

function buildVariants(random: Random, product: ProductDraft): VariantRow[] {
  const baseDollars = randomInt(random, ...DEPARTMENTS[product.sub.department].dollars);
  const cents = random() < 0.5 ? 49 : 99;
  const saleMarkup = random() < 0.2 ? 1.15 + random() * 0.35 : null;
  // 6% of products sell out entirely and 5% of the other variants do: about 10% of variants at zero stock.
  const soldOut = random() < 0.06;
  return pickOptionCombinations(random, product.sub.axes).map((selectedOptions, position) => {
    const priceAmount = toPriceAmount(baseDollars + optionSurcharge(product.sub.axes, selectedOptions), cents);
    const priceDollars = Math.floor(priceAmount / 100);
    const compareAtDollars =
      saleMarkup === null ? null : Math.max(Math.ceil(priceDollars * saleMarkup), priceDollars + 1);
    const inStock = !soldOut && random() >= 0.05;
    return {
      productId: product.id,
      sku: `AGR-${String(product.number).padStart(6, '0')}-${String(position + 1).padStart(2, '0')}`,
      title: selectedOptions.map((option) => option.value).join(' / ') || 'Default',
      priceAmount,
      compareAtAmount: compareAtDollars === null ? null : compareAtDollars * 100 + 99,
      selectedOptions,
      stockOnHand: inStock ? randomInt(random, 1, 200) : 0,
      position,
    };
  });
}

function describeProduct(random: Random, product: ProductDraft, variants: VariantRow[]): string {
  const { department } = product.sub;
  const [firstUse, secondUse] = pickSubset(random, USES[department], 2);
  const colourOptions = variants.flatMap((variant) => variant.selectedOptions.filter((o) => o.name === 'Color'));
  const colours = [...new Set(colourOptions.map((option) => option.value.toLowerCase()))];
  const madeOf = `${DEPARTMENTS[department].materialVerb} ${product.material.toLowerCase()}`;
  const availability = colours.length > 0 ? `, available in ${new Intl.ListFormat('en').format(colours)}` : '';
  return `${product.adjective} ${product.noun} ${madeOf}. Great for ${firstUse} and ${secondUse}${availability}.`;
}

/** Appends " 2", " 3", ... only when the plain title's slug is already taken. */
function claimUniqueTitle(baseTitle: string, usedSlugs: Set<string>): { title: string; slug: string } {
  const baseSlug = toSlug(baseTitle);
  let suffix = 1;
  let slug = baseSlug;
  while (usedSlugs.has(slug)) slug = `${baseSlug}-${++suffix}`;
  usedSlugs.add(slug);
  return { title: suffix === 1 ? baseTitle : `${baseTitle} ${suffix}`, slug };
}

function draftProduct(random: Random, id: string, number: number): ProductDraft {
  const sub = pick(random, SUBCATEGORIES);
  const adjective = pick(random, DEPARTMENTS[sub.department].adjectives);
  const material = pick(random, MATERIALS[sub.department]);
  return { id, number, sub, adjective, material, noun: pick(random, sub.nouns) };
}

/** Pure and deterministic: the same options always give the same rows, ids included. */
export function generateCatalog(options: CatalogOptions): CatalogRows {
  const seed = options.seed ?? DEFAULT_SEED;
  const random = createRandom(seed);
  const nextId = createUuidSource(seed);
  const categories = buildCategoryTree(nextId);
  const categoryIdBySlug = new Map(categories.map((category) => [category.slug, category.id]));
  const rows: CatalogRows = { categories, products: [], productCategories: [], variants: [] };
  const usedSlugs = new Set<string>();
  for (let number = 1; number <= options.products; number++) {
    const product = draftProduct(random, nextId(), number);
    const { title, slug } = claimUniqueTitle(`${product.adjective} ${product.material} ${product.noun}`, usedSlugs);
    const variants = buildVariants(random, product);
    rows.products.push({ id: product.id, title, slug, description: describeProduct(random, product, variants) });
    rows.variants.push(...variants);
    const siblings = SUBCATEGORIES.filter((sub) => sub.department === product.sub.department && sub !== product.sub);
    const extraCategory = random() < 0.25 ? [pick(random, siblings)] : [];
    for (const sub of [product.sub, ...extraCategory]) {
      rows.productCategories.push({ productId: product.id, categoryId: categoryIdBySlug.get(subcategorySlug(sub))! });
    }
  }
  return rows;
}

async function insertInBatches<T>(rows: T[], insert: (batch: T[]) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < rows.length; start += BATCH_SIZE) await insert(rows.slice(start, start + BATCH_SIZE));
}

async function countCatalog(tx: Prisma.TransactionClient): Promise<CatalogCounts> {
  const categories = await tx.category.count();
  const products = await tx.product.count();
  return { categories, products, variants: await tx.productVariant.count() };
}

/** Seeds the demo catalog once: if any product exists it inserts nothing and returns the existing counts. */
export async function seedCatalog(prisma: PrismaClient, options: CatalogOptions): Promise<CatalogCounts> {
  return prisma.$transaction(
    async (tx) => {
      const existing = await countCatalog(tx);
      if (existing.products > 0) return existing;
      const catalog = generateCatalog(options);
      // Parents precede their children, and PostgreSQL checks the parent foreign key at the end of each statement.
      await insertInBatches(catalog.categories, (data) => tx.category.createMany({ data }));
      await insertInBatches(catalog.products, (data) => tx.product.createMany({ data }));
      await insertInBatches(catalog.variants, (data) => tx.productVariant.createMany({ data }));
      await insertInBatches(catalog.productCategories, (data) => tx.productCategory.createMany({ data }));
      const { categories, products, variants } = catalog;
      return { categories: categories.length, products: products.length, variants: variants.length };
    },
    { timeout: 120_000 },
  );
}
