-- DropIndex
DROP INDEX "account_role_created_at_idx";

-- DropIndex
DROP INDEX "category_parent_id_name_idx";

-- DropIndex
DROP INDEX "inventory_change_variant_id_created_at_idx";

-- DropIndex
DROP INDEX "order_account_id_created_at_idx";

-- DropIndex
DROP INDEX "order_status_created_at_idx";

-- AlterTable
ALTER TABLE "product" ADD COLUMN     "min_price_amount" INTEGER;

-- CreateIndex
CREATE INDEX "account_role_id_idx" ON "account"("role", "id");

-- CreateIndex
CREATE INDEX "audit_log_entry_mutation_id_idx" ON "audit_log_entry"("mutation", "id");

-- CreateIndex
CREATE INDEX "audit_log_entry_outcome_id_idx" ON "audit_log_entry"("outcome", "id");

-- CreateIndex
CREATE INDEX "category_parent_id_name_id_idx" ON "category"("parent_id", "name", "id");

-- CreateIndex
CREATE INDEX "inventory_change_variant_id_created_at_id_idx" ON "inventory_change"("variant_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "order_account_id_id_idx" ON "order"("account_id", "id");

-- CreateIndex
CREATE INDEX "order_status_id_idx" ON "order"("status", "id");

-- CreateIndex
CREATE INDEX "order_created_at_idx" ON "order"("created_at");

-- CreateIndex
CREATE INDEX "product_variant_price_amount_product_id_idx" ON "product_variant"("price_amount", "product_id");

-- Hand-written: what Prisma's schema language cannot express.

-- The PRICE sort key. COALESCE puts products without variants after every int4 price, as the API promises,
-- and matches the expression in src/modules/catalog/productSearch.ts, so pages and keyset cursors read the index.
CREATE INDEX "product_price_sort_idx" ON "product" ((COALESCE("min_price_amount", 2147483648)), "id");

-- availableForSale: the in-stock variants of a product, probed once per product (and merged whole for counts).
CREATE INDEX "product_variant_available_idx" ON "product_variant" ("product_id") WHERE "stock_on_hand" > "stock_reserved";

-- lowStockVariants: available stock, then ID, as src/modules/inventory/service.ts filters and sorts.
-- These two read the stock columns, so a stock change (a reservation at checkout, an adjustment) can no longer be
-- a HOT update: it writes an entry in each index of product_variant. That is the price of listing by stock.
CREATE INDEX "product_variant_stock_available_idx" ON "product_variant" (("stock_on_hand" - "stock_reserved"), "id");

-- product.min_price_amount follows the variants: after each statement that inserts or deletes variants, and after
-- each change of a variant's price or product. It locks the products concerned (in ID order, so that concurrent
-- writers cannot deadlock) and only then reads their variants, with a snapshot that includes whatever a concurrent
-- writer of the same products committed meanwhile. The body is an E'' string in which \073 stands for the
-- semicolon: the migration runner (the WASM schema engine through @prisma/adapter-pg) splits scripts at every one.
CREATE FUNCTION "product_min_price_refresh"() RETURNS trigger LANGUAGE plpgsql AS E'
DECLARE
  product_ids uuid[]\073
BEGIN
  IF TG_LEVEL = ''ROW'' THEN
    product_ids := ARRAY[OLD.product_id, NEW.product_id]\073
  ELSIF TG_OP = ''INSERT'' THEN
    product_ids := ARRAY(SELECT DISTINCT product_id FROM inserted_variants)\073
  ELSE
    product_ids := ARRAY(SELECT DISTINCT product_id FROM deleted_variants)\073
  END IF\073
  PERFORM 1 FROM "product" WHERE id = ANY(product_ids) ORDER BY id FOR NO KEY UPDATE\073
  UPDATE "product" p SET min_price_amount = lowest.amount
  FROM (
    SELECT ids.id, (SELECT min(v.price_amount) FROM "product_variant" v WHERE v.product_id = ids.id) AS amount
    FROM (SELECT DISTINCT unnest(product_ids) AS id) ids
  ) lowest
  WHERE p.id = lowest.id AND p.min_price_amount IS DISTINCT FROM lowest.amount\073
  RETURN NULL\073
END
';

CREATE TRIGGER "product_variant_min_price_insert" AFTER INSERT ON "product_variant"
  REFERENCING NEW TABLE AS inserted_variants FOR EACH STATEMENT EXECUTE FUNCTION "product_min_price_refresh"();

CREATE TRIGGER "product_variant_min_price_delete" AFTER DELETE ON "product_variant"
  REFERENCING OLD TABLE AS deleted_variants FOR EACH STATEMENT EXECUTE FUNCTION "product_min_price_refresh"();

CREATE TRIGGER "product_variant_min_price_update" AFTER UPDATE OF "price_amount", "product_id" ON "product_variant"
  FOR EACH ROW WHEN (OLD."price_amount" <> NEW."price_amount" OR OLD."product_id" <> NEW."product_id")
  EXECUTE FUNCTION "product_min_price_refresh"();

-- Products that already have variants.
UPDATE "product" p SET min_price_amount = (SELECT min(v.price_amount) FROM "product_variant" v WHERE v.product_id = p.id);
