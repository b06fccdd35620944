#!/bin/sh
# Stand-in for Prisma's schema-engine binary, which cannot be downloaded offline. `prisma generate` only needs the
# file to exist; migrations run through the WASM engine instead (src/db/cli.ts).
if [ "$1" = "--version" ]; then echo "schema-engine-cli not-installed (use npm run db:migrate)"; exit 0; fi
echo "The schema-engine binary is not installed; use the npm run db:* scripts." >&2
exit 1
