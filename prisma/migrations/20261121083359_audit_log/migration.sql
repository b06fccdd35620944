-- CreateEnum
CREATE TYPE "AuditOutcome" AS ENUM ('SUCCEEDED', 'REJECTED', 'FAILED');

-- CreateTable
CREATE TABLE "audit_log_entry" (
    "id" UUID NOT NULL,
    "actor_id" UUID NOT NULL,
    "actor_role" "Role" NOT NULL,
    "operation_name" TEXT,
    "mutation" TEXT NOT NULL,
    "target_ids" TEXT[],
    "outcome" "AuditOutcome" NOT NULL,
    "error_codes" TEXT[],
    "client_address" TEXT,
    "request_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_log_entry_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_log_entry_actor_id_id_idx" ON "audit_log_entry"("actor_id", "id");

-- CreateIndex
CREATE INDEX "audit_log_entry_created_at_idx" ON "audit_log_entry"("created_at");
