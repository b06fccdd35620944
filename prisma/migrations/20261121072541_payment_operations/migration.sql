-- CreateEnum
CREATE TYPE "PaymentOperationKind" AS ENUM ('CAPTURE', 'VOID', 'REFUND');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "PaymentStatus" ADD VALUE 'CAPTURED';
ALTER TYPE "PaymentStatus" ADD VALUE 'VOIDED';

-- AlterTable
ALTER TABLE "payment" ADD COLUMN     "captured_amount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "refunded_amount" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "payment_operation" (
    "key" TEXT NOT NULL,
    "payment_id" UUID NOT NULL,
    "kind" "PaymentOperationKind" NOT NULL,
    "amount" INTEGER NOT NULL,
    "account_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_operation_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "payment_webhook_event" (
    "provider" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_webhook_event_pkey" PRIMARY KEY ("provider","event_id")
);

-- CreateIndex
CREATE INDEX "payment_provider_provider_reference_idx" ON "payment"("provider", "provider_reference");

-- AddForeignKey
ALTER TABLE "payment_operation" ADD CONSTRAINT "payment_operation_payment_id_fkey" FOREIGN KEY ("payment_id") REFERENCES "payment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: never capture more than authorized, nor refund more than captured.
ALTER TABLE "payment" ADD CONSTRAINT "payment_captured_amount_check" CHECK ("captured_amount" BETWEEN 0 AND "amount");
ALTER TABLE "payment" ADD CONSTRAINT "payment_refunded_amount_check" CHECK ("refunded_amount" BETWEEN 0 AND "captured_amount");
