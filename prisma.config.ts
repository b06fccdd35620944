import 'dotenv/config';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

// The schema-engine binary is never downloaded: generate/validate/format only need the path to exist, and
// migrations run through the WASM engine (npm run db:*).
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(new URL('./scripts/no-schema-engine.sh', import.meta.url));

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // env('DATABASE_URL') would throw when unset, and generate needs no database.
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
