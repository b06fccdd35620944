#!/bin/sh
# Writes deploy/secrets/agora.env and deploy/secrets/postgres.env for docker-compose.yml with generated values.
# Hex keeps every value URL-safe and free of anything src/config.ts would take for a placeholder.
# Usage: sh deploy/generate-secrets.sh [--force]
set -eu
dir=$(CDPATH= cd -- "$(dirname -- "$0")/secrets" && pwd)
if [ "${1:-}" != "--force" ] && { [ -e "$dir/agora.env" ] || [ -e "$dir/postgres.env" ]; }; then
  echo "deploy/secrets already has agora.env or postgres.env; rerun with --force to replace them" >&2
  exit 1
fi
hex() {
  if command -v openssl >/dev/null 2>&1; then openssl rand -hex 32; else od -An -vtx1 -N32 /dev/urandom | tr -d ' \n'; fi
}
pg_password=$(hex)
umask 077
cat >"$dir/postgres.env" <<ENV
POSTGRES_PASSWORD=$pg_password
ENV
cat >"$dir/agora.env" <<ENV
JWT_SECRET=$(hex)
PAYMENT_WEBHOOK_SECRET=$(hex)
DATABASE_URL=postgresql://agora:$pg_password@postgres:5432/agora
ENV
echo "wrote $dir/agora.env and $dir/postgres.env"
