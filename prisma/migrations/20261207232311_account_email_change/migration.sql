-- AlterTable
ALTER TABLE "outbox_email" ADD COLUMN     "redacted_body" TEXT;

-- CreateTable
CREATE TABLE "email_change_token" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "new_email" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),

    CONSTRAINT "email_change_token_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "email_change_token_token_hash_key" ON "email_change_token"("token_hash");

-- CreateIndex
CREATE INDEX "email_change_token_account_id_idx" ON "email_change_token"("account_id");

-- AddForeignKey
ALTER TABLE "email_change_token" ADD CONSTRAINT "email_change_token_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
