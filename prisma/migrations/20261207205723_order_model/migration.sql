-- The order model split in three (lifecycle, money, fulfilment), shipments, checkout leases, the event outbox and
-- the sandbox processor's ledger. Existing orders are converted: their history stays, as STATUS events.

-- CreateEnum
CREATE TYPE "FinancialStatus" AS ENUM ('PENDING', 'AUTHORIZED', 'PARTIALLY_PAID', 'PAID', 'PARTIALLY_REFUNDED', 'REFUNDED', 'VOIDED');
CREATE TYPE "FulfillmentStatus" AS ENUM ('UNFULFILLED', 'PARTIALLY_FULFILLED', 'FULFILLED');
CREATE TYPE "ShipmentStatus" AS ENUM ('PACKED', 'SHIPPED', 'DELIVERED', 'CANCELLED');
CREATE TYPE "OrderEventKind" AS ENUM ('STATUS', 'FINANCIAL', 'FULFILLMENT', 'SHIPMENT');
CREATE TYPE "PaymentOperationStatus" AS ENUM ('PENDING', 'SUCCEEDED');

-- Order events: the old statuses become text, kind STATUS.
ALTER TABLE "order_event" ADD COLUMN "kind" "OrderEventKind" NOT NULL DEFAULT 'STATUS',
ADD COLUMN "fulfillment_id" UUID,
ALTER COLUMN "from_status" TYPE TEXT USING "from_status"::text,
ALTER COLUMN "to_status" TYPE TEXT USING "to_status"::text;
ALTER TABLE "order_event" ALTER COLUMN "kind" DROP DEFAULT;

-- Orders: the old status as text while the new columns are worked out from it.
ALTER TABLE "order" ALTER COLUMN "status" DROP DEFAULT,
ALTER COLUMN "status" TYPE TEXT USING "status"::text,
ALTER COLUMN "number" DROP NOT NULL,
ADD COLUMN "financial_status" "FinancialStatus" NOT NULL DEFAULT 'PENDING',
ADD COLUMN "fulfillment_status" "FulfillmentStatus" NOT NULL DEFAULT 'UNFULFILLED';
DROP TYPE "OrderStatus";
CREATE TYPE "OrderStatus" AS ENUM ('CHECKOUT', 'OPEN', 'CLOSED', 'CANCELLED', 'ABANDONED');

ALTER TABLE "order_line" ADD COLUMN "fulfilled_quantity" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "refunded_quantity" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "removed_quantity" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "fulfillment" (
    "id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "status" "ShipmentStatus" NOT NULL DEFAULT 'PACKED',
    "carrier" TEXT NOT NULL,
    "tracking_number" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "fulfillment_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "fulfillment_line" (
    "id" UUID NOT NULL,
    "fulfillment_id" UUID NOT NULL,
    "order_line_id" UUID NOT NULL,
    "quantity" INTEGER NOT NULL,

    CONSTRAINT "fulfillment_line_pkey" PRIMARY KEY ("id")
);

-- Orders that were fulfilled, shipped or delivered get one shipment of everything.
INSERT INTO "fulfillment" ("id", "order_id", "status", "carrier", "tracking_number", "created_at", "updated_at")
SELECT gen_random_uuid(), "id",
  (CASE WHEN "status" = 'DELIVERED' THEN 'DELIVERED' WHEN "status" IN ('SHIPPED', 'PARTIALLY_REFUNDED', 'REFUNDED') THEN 'SHIPPED' ELSE 'PACKED' END)::"ShipmentStatus",
  "carrier", COALESCE("tracking_number", ''), "updated_at", "updated_at"
FROM "order" WHERE "carrier" IS NOT NULL;
INSERT INTO "fulfillment_line" ("id", "fulfillment_id", "order_line_id", "quantity")
SELECT gen_random_uuid(), f."id", l."id", l."quantity"
FROM "fulfillment" f JOIN "order_line" l ON l."order_id" = f."order_id";
UPDATE "order_line" l SET "fulfilled_quantity" = l."quantity"
WHERE EXISTS (SELECT 1 FROM "fulfillment" f WHERE f."order_id" = l."order_id");
UPDATE "order" o SET "fulfillment_status" = 'FULFILLED'
WHERE EXISTS (SELECT 1 FROM "fulfillment" f WHERE f."order_id" = o."id");

-- Where the money stands, from the order's current payment (orders that cost nothing are paid).
UPDATE "order" o SET "financial_status" = (CASE
  WHEN p."id" IS NULL THEN 'PAID'
  WHEN p."status" = 'PENDING' THEN 'PENDING'
  WHEN p."status" = 'AUTHORIZED' THEN 'AUTHORIZED'
  WHEN p."status" = 'CAPTURED' AND p."refunded_amount" >= p."captured_amount" THEN 'REFUNDED'
  WHEN p."status" = 'CAPTURED' AND p."refunded_amount" > 0 THEN 'PARTIALLY_REFUNDED'
  WHEN p."status" = 'CAPTURED' THEN 'PAID'
  ELSE 'VOIDED' END)::"FinancialStatus"
FROM "order" o2 LEFT JOIN LATERAL (
  SELECT * FROM "payment" WHERE "order_id" = o2."id" ORDER BY ("status" IN ('DECLINED', 'FAILED')), "created_at" DESC LIMIT 1
) p ON true
WHERE o2."id" = o."id";

-- Checkouts whose payment was declined or failed were cancelled orders: they are abandoned checkouts now, without
-- a number.
ALTER TABLE "order" ADD COLUMN "new_status" "OrderStatus";
UPDATE "order" o SET "new_status" = 'ABANDONED', "number" = NULL
WHERE o."status" = 'CANCELLED' AND EXISTS (SELECT 1 FROM "payment" p WHERE p."order_id" = o."id")
  AND NOT EXISTS (SELECT 1 FROM "payment" p WHERE p."order_id" = o."id" AND p."status" NOT IN ('DECLINED', 'FAILED'));
UPDATE "order" SET "new_status" = (CASE
  WHEN "status" = 'CANCELLED' THEN 'CANCELLED'
  WHEN "status" = 'DELIVERED' THEN 'CLOSED'
  ELSE 'OPEN' END)::"OrderStatus"
WHERE "new_status" IS NULL;
ALTER TABLE "order" DROP COLUMN "status";
ALTER TABLE "order" RENAME COLUMN "new_status" TO "status";
ALTER TABLE "order" ALTER COLUMN "status" SET NOT NULL,
ALTER COLUMN "status" SET DEFAULT 'CHECKOUT',
DROP COLUMN "carrier",
DROP COLUMN "tracking_number";
CREATE INDEX "order_status_id_idx" ON "order"("status", "id");

-- Checkout attempts and payment operations from before leases have finished.
ALTER TABLE "checkout_attempt" ADD COLUMN "amount" INTEGER,
ADD COLUMN "fingerprint" TEXT NOT NULL DEFAULT '',
ADD COLUMN "lease_until" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE "checkout_attempt" ALTER COLUMN "fingerprint" DROP DEFAULT, ALTER COLUMN "lease_until" DROP DEFAULT;

ALTER TABLE "payment" ADD COLUMN "idempotency_key" TEXT;

ALTER TABLE "payment_operation" ADD COLUMN "fingerprint" TEXT NOT NULL DEFAULT '',
ADD COLUMN "lease_until" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN "status" "PaymentOperationStatus" NOT NULL DEFAULT 'SUCCEEDED',
ADD COLUMN "final" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "lines" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN "note" TEXT;
ALTER TABLE "payment_operation" ALTER COLUMN "fingerprint" DROP DEFAULT, ALTER COLUMN "lease_until" DROP DEFAULT,
ALTER COLUMN "status" SET DEFAULT 'PENDING';

CREATE TABLE "outbox_event" (
    "id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "available_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "outbox_event_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "sandbox_charge" (
    "idempotency_key" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "decline_code" TEXT,
    "amount" INTEGER NOT NULL,
    "captured" INTEGER NOT NULL DEFAULT 0,
    "refunded" INTEGER NOT NULL DEFAULT 0,
    "voided" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sandbox_charge_pkey" PRIMARY KEY ("idempotency_key")
);

CREATE TABLE "sandbox_request" (
    "key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sandbox_request_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "fulfillment_order_id_id_idx" ON "fulfillment"("order_id", "id");
CREATE INDEX "fulfillment_line_fulfillment_id_idx" ON "fulfillment_line"("fulfillment_id");
CREATE INDEX "fulfillment_line_order_line_id_idx" ON "fulfillment_line"("order_line_id");
CREATE INDEX "outbox_event_delivered_at_available_at_idx" ON "outbox_event"("delivered_at", "available_at");
CREATE UNIQUE INDEX "sandbox_charge_reference_key" ON "sandbox_charge"("reference");
CREATE INDEX "checkout_attempt_finished_at_lease_until_idx" ON "checkout_attempt"("finished_at", "lease_until");
CREATE INDEX "order_financial_status_id_idx" ON "order"("financial_status", "id");
CREATE INDEX "order_fulfillment_status_id_idx" ON "order"("fulfillment_status", "id");
CREATE UNIQUE INDEX "payment_idempotency_key_key" ON "payment"("idempotency_key");
CREATE INDEX "payment_status_updated_at_idx" ON "payment"("status", "updated_at");
CREATE INDEX "payment_operation_status_lease_until_idx" ON "payment_operation"("status", "lease_until");

-- AddForeignKey
ALTER TABLE "fulfillment" ADD CONSTRAINT "fulfillment_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "order"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "fulfillment_line" ADD CONSTRAINT "fulfillment_line_fulfillment_id_fkey" FOREIGN KEY ("fulfillment_id") REFERENCES "fulfillment"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "fulfillment_line" ADD CONSTRAINT "fulfillment_line_order_line_id_fkey" FOREIGN KEY ("order_line_id") REFERENCES "order_line"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Quantities can never run past what was bought.
ALTER TABLE "order_line" ADD CONSTRAINT "order_line_progress_check" CHECK (
  "fulfilled_quantity" >= 0 AND "removed_quantity" >= 0 AND "refunded_quantity" >= "removed_quantity"
  AND "refunded_quantity" <= "quantity" AND "fulfilled_quantity" + "removed_quantity" <= "quantity");
ALTER TABLE "fulfillment_line" ADD CONSTRAINT "fulfillment_line_quantity_check" CHECK ("quantity" > 0);
