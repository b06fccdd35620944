-- AlterTable
ALTER TABLE "product_variant" ADD COLUMN     "stock_reserved" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "inventory_change" (
    "id" UUID NOT NULL,
    "variant_id" UUID NOT NULL,
    "account_id" UUID,
    "reason" TEXT NOT NULL,
    "before" INTEGER NOT NULL,
    "after" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inventory_change_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "inventory_change_variant_id_created_at_idx" ON "inventory_change"("variant_id", "created_at");

-- AddForeignKey
ALTER TABLE "inventory_change" ADD CONSTRAINT "inventory_change_variant_id_fkey" FOREIGN KEY ("variant_id") REFERENCES "product_variant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: stock can neither go negative nor be reserved beyond what is on hand.
ALTER TABLE "product_variant" ADD CONSTRAINT "product_variant_stock_reserved_check" CHECK ("stock_reserved" >= 0 AND "stock_reserved" <= "stock_on_hand");
