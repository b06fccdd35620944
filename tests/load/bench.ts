// npm run bench [-- --duration 10 --connections 20 --only … --profile]: Agora on the real PostgreSQL and Redis with a
// benchmark-sized catalog, driven by autocannon from a separate process, side by side with reference servers for the
// same pages (one json_agg statement through pg behind node:http; PostGraphile 5 for the storefront page). Prints a
// table per scenario and the targets, and writes JSON.
// What it measures and how: docs/performance.md.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startStatementCounter } from '../support/statementCounter.js';
import {
  benchDatabaseUrl,
  clearOutbox,
  loadFixtures,
  postgresVersion,
  prepareDatabase,
  type Fixtures,
} from './database.js';
import { Meter, type Running } from './measure.js';
import { describeMachine, freePort, node22, ROOT, startDriver, startService } from './processes.js';
import { summarizeProfile } from './profile.js';
import {
  evaluateTargets,
  formatReport,
  writeJson,
  type BenchReport,
  type PageComparison,
  type ScenarioResult,
  type SizeCheck,
} from './report.js';
import {
  cartAddBodies,
  checkCartAdd,
  checkCheckout,
  checkListing,
  checkoutBodies,
  checkPostgraphileStorefront,
  checkProduct,
  createCarts,
  firstDifference,
  listingBody,
  postgraphileAsStorefront,
  postgraphileStorefrontBody,
  prepareCheckoutCarts,
  productBodies,
  STOREFRONT_PAGE_SIZE,
  storefrontBody,
  variantGid,
} from './scenarios.js';

// ---------------------------------------------------------------------------------------------------------------
// Options: flags win over environment variables.

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    products: { type: 'string' },
    carts: { type: 'string' },
    checkouts: { type: 'string' },
    only: { type: 'string' },
    profile: { type: 'boolean' },
    reset: { type: 'boolean' },
    report: { type: 'string' },
  },
});
/** The flags in package.json's start script, `node <flags> dist/main.js`, so that the benchmark runs the server as
 * production does: compiled, with the same V8 settings. */
function startScriptNodeFlags(): string {
  const { scripts } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: { start?: string };
  };
  const flags = /\bnode((?:\s+--[\w-]+(?:=\S+)?)*)\s+dist\/main\.js/.exec(scripts.start ?? '')?.[1];
  return flags?.trim() ?? '';
}
function numberOption(flag: string | undefined, name: string, fallback: number, min = 1): number {
  const value = Number(flag ?? process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name}: an integer of at least ${min}`);
  return value;
}
const SCENARIOS = [
  'reference',
  'storefront-reference',
  'storefront-postgraphile',
  'listing-cache-off',
  'listing-10-cache-off',
  'storefront-cache-off',
  'product-detail',
  'size-checks',
  'cart-add',
  'checkout',
  'listing-cache-on',
  'storefront-cache-on',
];
/** Names --only accepts for several scenarios. */
const GROUPS: Record<string, string[]> = {
  storefront: ['storefront-reference', 'storefront-postgraphile', 'storefront-cache-off', 'storefront-cache-on'],
};
/** Scenarios of a reference server, and of Agora with the response cache on; the rest run on Agora with it off. */
const NOT_CACHE_OFF = [
  'reference',
  'storefront-reference',
  'storefront-postgraphile',
  'listing-cache-on',
  'storefront-cache-on',
];
const options = {
  duration: numberOption(flags.duration, 'BENCH_DURATION', 10),
  warmup: numberOption(flags.warmup, 'BENCH_WARMUP', 3, 0),
  connections: numberOption(flags.connections, 'BENCH_CONNECTIONS', 20),
  products: numberOption(flags.products, 'BENCH_PRODUCTS', 5000),
  carts: numberOption(flags.carts, 'BENCH_CARTS', 500),
  /** null: about the duration's worth, estimated from the cart-add rate. */
  checkouts:
    flags.checkouts || process.env.BENCH_CHECKOUTS ? numberOption(flags.checkouts, 'BENCH_CHECKOUTS', 0) : null,
  /** Scenarios to run; all when empty. */
  only: (flags.only ?? process.env.BENCH_ONLY ?? '')
    .split(',')
    .filter(Boolean)
    .flatMap((name) => GROUPS[name] ?? [name]),
  profile: flags.profile ?? process.env.BENCH_PROFILE === 'true',
  reset: flags.reset ?? process.env.BENCH_RESET === 'true',
  report: path.resolve(ROOT, flags.report ?? process.env.BENCH_REPORT ?? 'reports/bench.json'),
  databaseUrl: benchDatabaseUrl(),
  redisUrl: process.env.BENCH_REDIS_URL || process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  workers: process.env.WORKERS,
  /** Node flags for the server: BENCH_NODE_OPTIONS, else those `npm start` runs it with. */
  nodeFlags: (process.env.BENCH_NODE_OPTIONS ?? startScriptNodeFlags()).split(/\s+/).filter(Boolean),
};
const unknown = options.only.filter((name) => !SCENARIOS.includes(name));
if (unknown.length) {
  const choices = [...SCENARIOS, ...Object.keys(GROUPS)].join(', ');
  throw new Error(`--only: unknown ${unknown.join(', ')}; choose from ${choices}`);
}
const wanted = (...names: string[]) => !options.only.length || names.some((name) => options.only.includes(name));

/** Variants given ample stock, which carts and checkouts rotate over. */
const STOCKED_VARIANTS = 200;
/** Lines each cart of the cart-add scenario can grow to. */
const CART_ROUNDS = 20;
const PROBE_REQUESTS = 7;
const UNTHROTTLED = '1000000000/1000000000';
const runId = randomUUID().slice(0, 8);
const mask = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
const repeat = <T>(item: T, times = PROBE_REQUESTS) => Array.from({ length: times }, () => item);
/** A multiple of the connections, so that autocannon's `amount` gives every connection the same share. */
const round = (n: number) => Math.max(1, Math.round(n / options.connections)) * options.connections;

// ---------------------------------------------------------------------------------------------------------------
// The servers

const secrets = {
  JWT_SECRET: randomBytes(32).toString('hex'),
  PAYMENT_WEBHOOK_SECRET: randomBytes(32).toString('hex'),
};

/** Agora's environment. Everything else keeps its default. */
function agoraEnv(databaseUrl: string, port: string, responseCache: string, redisKeyPrefix: string) {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: port,
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    SEED_DEMO_CATALOG: 'false',
    REDIS_URL: options.redisUrl,
    REDIS_KEY_PREFIX: redisKeyPrefix,
    ...secrets,
    RATE_LIMIT_ANONYMOUS: UNTHROTTLED,
    RATE_LIMIT_CUSTOMER: UNTHROTTLED,
    RATE_LIMIT_STAFF: UNTHROTTLED,
    RESPONSE_CACHE: responseCache,
    ...(options.workers && { WORKERS: options.workers }),
  };
}

let serverStarts = 0;
async function startAgora(databaseUrl: string, responseCache: boolean, nodeOptions: string[] = []): Promise<Running> {
  await clearOutbox(options.databaseUrl);
  const port = await freePort();
  const prefix = `agora-bench-${runId}-${++serverStarts}:`; // a fresh response cache for every start
  const env = agoraEnv(databaseUrl, String(port), String(responseCache), prefix);
  const name = `Agora (response cache ${responseCache ? 'on' : 'off'})`;
  const args = [...options.nodeFlags, ...nodeOptions, 'dist/main.js'];
  const service = await startService(name, args, env, `http://127.0.0.1:${port}/readyz`);
  return { service, url: `http://127.0.0.1:${port}/graphql` };
}

/** The raw reference for one page: `listing` (LISTING_QUERY, 50 products) or `storefront` (STOREFRONT_QUERY). */
async function startReference(databaseUrl: string, page: 'listing' | 'storefront'): Promise<Running> {
  const port = await freePort();
  const env = { REFERENCE_DATABASE_URL: databaseUrl, PORT: String(port), PAGE: page, PAGE_SIZE: '50', POOL_SIZE: '10' };
  const service = await startService(
    page === 'listing' ? 'reference' : `${page} reference`,
    ['--import', 'tsx', 'tests/load/reference.ts'],
    env,
    `http://127.0.0.1:${port}/healthz`,
  );
  return { service, url: `http://127.0.0.1:${port}/graphql` };
}

/** PostGraphile 5 on Node 22 (tests/load/postgraphile.ts), with a pool of 10 like Agora's and the reference's. */
async function startPostgraphile(databaseUrl: string, binary: string): Promise<Running> {
  const port = await freePort();
  const env = {
    REFERENCE_DATABASE_URL: databaseUrl,
    PORT: String(port),
    POOL_SIZE: '10',
    NODE_ENV: 'production',
    GRAPHILE_ENV: 'production',
  };
  const service = await startService(
    'PostGraphile',
    ['tests/load/postgraphile.ts'],
    env,
    `http://127.0.0.1:${port}/healthz`,
    { execPath: binary },
  );
  return { service, url: `http://127.0.0.1:${port}/graphql` };
}

const serverProblems: string[] = [];
async function withServer<T>(start: Promise<Running>, work: (running: Running) => Promise<T>): Promise<T> {
  const running = await start;
  try {
    return await work(running);
  } catch (error) {
    if (running.service.alive()) throw error;
    // Agora exits with code 0 after a SIGTERM: if the benchmark did not send it, another process did.
    const status = running.service.exitStatus();
    const output = running.service.output().join('\n');
    throw new Error(`${running.service.name} exited (${status}); its last output:\n${output}`, { cause: error });
  } finally {
    serverProblems.push(...running.service.problems().map((line) => `${running.service.name}: ${line}`));
    await running.service.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The scenarios

let meter: Meter;

const listing = (first: number) => ({ bodies: [listingBody(first)], check: checkListing(first) });
const storefront = () => ({ bodies: [storefrontBody()], check: checkListing(STOREFRONT_PAGE_SIZE) });
const LISTING_KIND = { baseline: 'reference' };
const STOREFRONT_KIND = { baseline: 'storefront-reference' };

/** Every scenario of the server with the response cache off, in order; checkout last, as it leaves work behind. */
async function agoraScenarios(running: Running, fixtures: Fixtures, results: ScenarioResult[], checks: SizeCheck[]) {
  const { url } = running;
  const variants = fixtures.stockedVariantIds.map(variantGid);

  if (wanted('listing-cache-off')) {
    results.push(await meter.measure('listing-cache-off', 'listing 50, cache off', running, listing(50), LISTING_KIND));
  }
  if (wanted('listing-10-cache-off')) {
    results.push(
      await meter.measure('listing-10-cache-off', 'listing 10, cache off', running, listing(10), LISTING_KIND),
    );
  }
  if (wanted('storefront-cache-off')) {
    results.push(
      await meter.measure('storefront-cache-off', 'storefront page, cache off', running, storefront(), STOREFRONT_KIND),
    );
  }
  if (wanted('product-detail')) {
    results.push(
      await meter.measure('product-detail', 'product by slug', running, {
        bodies: productBodies(fixtures.slugs),
        check: checkProduct,
      }),
    );
  }

  if (wanted('size-checks')) {
    console.log('  counting SQL per request for small and large pages…');
    const sizes = async (name: string, small: [string, string[]], large: [string, string[]]): Promise<SizeCheck> => ({
      name,
      small: { label: small[0], statements: await meter.statementsPerRequest(url, small[1]) },
      large: { label: large[0], statements: await meter.statementsPerRequest(url, large[1]) },
    });
    const [smallCart] = await createCarts(url, 1, () => [{ variantId: variants[0]!, quantity: 1 }]);
    const [largeCart] = await createCarts(url, 1, () =>
      variants.slice(0, 20).map((variantId) => ({ variantId, quantity: 1 })),
    );
    const addTo = (cartId: string) => cartAddBodies([cartId], variants, 1)[0]!;
    const { fewVariants: few, manyVariants: many } = fixtures;
    checks.push(
      await sizes('products listing', ['first: 10', repeat(listingBody(10))], ['first: 50', repeat(listingBody(50))]),
      await sizes(
        'product by slug',
        [`${few.variants} variant(s)`, productBodies(few.slugs)],
        [`${many.variants} variants`, productBodies(many.slugs)],
      ),
      await sizes('cartLinesAdd', ['1 line', repeat(addTo(smallCart!))], ['20 lines', repeat(addTo(largeCart!))]),
    );
  }

  let cartAddRps: number | null = null;
  if (wanted('cart-add')) {
    console.log(`  creating ${options.carts} carts…`);
    const carts = await createCarts(url, options.carts, () => []);
    const cartAdd = await meter.measure('cart-add', 'cart add (cartLinesAdd)', running, {
      bodies: cartAddBodies(carts, variants, CART_ROUNDS),
      check: checkCartAdd,
    });
    results.push(cartAdd);
    cartAddRps = cartAdd.drive.rps;
  }

  if (wanted('checkout')) {
    // Each checkout uses up a cart, so the scenario sends a fixed number of requests rather than running for a
    // time: by default about the duration's worth, guessed from the cart-add rate.
    const estimate = Math.min(Math.max((cartAddRps ?? 0) * 0.6 * options.duration, 10 * options.connections), 5000);
    const checkouts = round(options.checkouts ?? estimate);
    const warmupCheckouts = round(checkouts / 10);
    console.log(`  preparing ${checkouts + warmupCheckouts} carts for checkout through the API…`);
    const ready = await prepareCheckoutCarts(url, checkouts + warmupCheckouts, variants);
    results.push(
      await meter.measure('checkout', 'checkout (checkoutComplete)', running, {
        bodies: checkoutBodies(ready.slice(0, checkouts), `${runId}-run`),
        amount: checkouts,
        warmup: { bodies: checkoutBodies(ready.slice(checkouts), `${runId}-warmup`), amount: warmupCheckouts },
        check: checkCheckout,
      }),
    );
  }
}

/** The uncached listing once more, under --cpu-prof; its functions by self time during the load. */
async function profileListing(databaseUrl: string) {
  const directory = path.join(path.dirname(options.report), 'profile');
  rmSync(directory, { recursive: true, force: true });
  const nodeOptions = ['--cpu-prof', `--cpu-prof-dir=${directory}`];
  const result = await withServer(startAgora(databaseUrl, false, nodeOptions), (running) =>
    meter.measure('listing-cache-off-profiled', 'listing 50, cache off, profiled', running, listing(50), LISTING_KIND),
  );
  const [file] = readdirSync(directory)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => path.join(directory, name))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  if (!file) throw new Error(`no CPU profile written to ${directory}`);
  const window = meter.windows.get(result.name);
  return { file: path.relative(ROOT, file), window, result, ...summarizeProfile(file, 15, window) };
}

const packageVersion = (name: string): string =>
  (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;

/** Each reference's page against Agora's `data` for the same page (Agora adds `extensions`, the query cost). */
function pageComparisons(): PageComparison[] {
  const data = (name: string) => {
    const answer = meter.firstAnswers.get(name);
    return answer ? (JSON.parse(answer) as { data?: unknown }).data : undefined;
  };
  const compare = (name: string, reference: unknown, agora: unknown, missing: string): PageComparison =>
    reference !== undefined && agora !== undefined
      ? { name, compared: true, difference: firstDifference(reference, agora, '$.data') }
      : { name, compared: false, difference: `not compared: ${missing} did not run` };
  const storefrontAgora = data('storefront-cache-off') ?? data('storefront-cache-on');
  const comparisons: PageComparison[] = [];
  if (wanted('reference', 'listing-cache-off')) {
    comparisons.push(
      compare(
        'reference vs Agora, 50-product listing',
        data('reference'),
        data('listing-cache-off'),
        'the reference or the uncached listing',
      ),
    );
  }
  if (wanted('storefront-reference', 'storefront-cache-off', 'storefront-cache-on')) {
    comparisons.push(
      compare(
        'storefront reference vs Agora, storefront page',
        data('storefront-reference'),
        storefrontAgora,
        'the storefront reference or an Agora storefront scenario',
      ),
    );
  }
  if (wanted('storefront-postgraphile')) {
    // Against Agora's page, else the raw reference's (which equals Agora's when both run).
    const postgraphile = data('storefront-postgraphile');
    comparisons.push(
      compare(
        `PostGraphile vs ${storefrontAgora === undefined ? 'storefront reference' : 'Agora'}, storefront page ` +
          '(cents as Money, categories by name)',
        postgraphile === undefined ? undefined : postgraphileAsStorefront(postgraphile),
        storefrontAgora ?? data('storefront-reference'),
        'PostGraphile, or both Agora storefront scenarios and the storefront reference,',
      ),
    );
  }
  return comparisons;
}

async function cleanRedis() {
  const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `agora-bench-${runId}-*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The run

async function main() {
  const startedAt = new Date().toISOString();
  console.log(`Agora benchmark ${startedAt} (run ${runId})`);
  console.log('  building the server as `npm start` does (npm run build)…');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`  database ${mask(options.databaseUrl)}: ${options.products} products (seeded once, then reused)…`);
  const database = await prepareDatabase(options.databaseUrl, options.products, options.reset);
  const fixtures = await loadFixtures(options.databaseUrl, STOCKED_VARIANTS);
  const machine = { ...describeMachine(), postgres: await postgresVersion(options.databaseUrl) };
  const postgraphileNode = wanted('storefront-postgraphile') ? node22() : null;
  const shownEnv = agoraEnv('<statement-counting proxy>', '<free port>', 'false|true', `agora-bench-${runId}-<n>:`);
  const settings = {
    database: { url: mask(database.url), products: database.products, variants: database.variants },
    seededThisRun: database.seeded,
    load: {
      tool: 'autocannon 8, programmatic, in its own process (tests/load/drive.ts)',
      connections: options.connections,
      warmupSeconds: options.warmup,
      durationSeconds: options.duration,
      checkouts: options.checkouts ? round(options.checkouts) : 'about the duration, from the cart-add rate',
      carts: options.carts,
    },
    server: {
      command: ['node', ...options.nodeFlags, 'dist/main.js'].join(' '),
      env: { ...shownEnv, JWT_SECRET: '<generated>', PAYMENT_WEBHOOK_SECRET: '<generated>' },
    },
    reference:
      'node --import tsx tests/load/reference.ts with PAGE=listing|storefront (node:http + pg Pool of 10, one json_agg ' +
      'statement)',
    postgraphile: postgraphileNode
      ? `${path.relative(ROOT, postgraphileNode.binary)} tests/load/postgraphile.ts (PostGraphile ` +
        `${packageVersion('postgraphile')}, amber preset, grafserv on node:http, pg Pool of 10, Node ` +
        `${postgraphileNode.version})`
      : 'not run',
    sql: 'counted on the wire by tests/support/statementCounter.ts, a proxy between each server and PostgreSQL',
  };
  const seeded = database.seeded ? `seeded now in ${(database.seedMs / 1000).toFixed(0)} s` : 'reused';
  console.log(
    [
      `  machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGb} GB; Node ${machine.node}; ` +
        `PostgreSQL ${machine.postgres}; commit ${machine.commit}${machine.uncommittedChanges ? ' + uncommitted changes' : ''}`,
      `  catalog: ${database.products} products, ${database.variants} variants (${seeded})`,
      `  server: ${settings.server.command} with ${Object.entries(settings.server.env)
        .map(([key, value]) => `${key}=${value}`)
        .join(' ')}`,
      `  reference: ${settings.reference}`,
      ...(postgraphileNode ? [`  PostGraphile: ${settings.postgraphile}`] : []),
      `  load: autocannon in a separate process, ${options.connections} connections, ${options.warmup} s warm-up then ` +
        `${options.duration} s per scenario (checkout: a fixed number of requests, ${settings.load.checkouts}), ` +
        'POST application/json',
      `  SQL: ${settings.sql} (the references' too)`,
      '',
    ].join('\n'),
  );

  const results: ScenarioResult[] = [];
  const checks: SizeCheck[] = [];
  let profile: Awaited<ReturnType<typeof profileListing>> | null = null;
  let failure: Error | null = null;
  const driver = startDriver();
  const counter = await startStatementCounter(options.databaseUrl);
  meter = new Meter(driver, counter, { ...options, databaseUrl: options.databaseUrl });
  try {
    if (wanted('reference')) {
      console.log('reference');
      await withServer(startReference(counter.url, 'listing'), async (running) => {
        const label = 'reference (node:http + pg, 1 SQL)';
        results.push(await meter.measure('reference', label, running, listing(50), { reference: true }));
      });
    }
    if (wanted('storefront-reference')) {
      console.log('storefront reference');
      await withServer(startReference(counter.url, 'storefront'), async (running) => {
        const label = 'storefront reference (node:http + pg, 1 SQL)';
        results.push(await meter.measure('storefront-reference', label, running, storefront(), { reference: true }));
      });
    }
    if (postgraphileNode) {
      console.log(`PostGraphile ${packageVersion('postgraphile')} on Node ${postgraphileNode.version}`);
      await withServer(startPostgraphile(counter.url, postgraphileNode.binary), async (running) => {
        results.push(
          await meter.measure(
            'storefront-postgraphile',
            'storefront PostGraphile 5',
            running,
            { bodies: [postgraphileStorefrontBody()], check: checkPostgraphileStorefront },
            { reference: true, ...STOREFRONT_KIND },
          ),
        );
      });
    }
    if (wanted(...SCENARIOS.filter((name) => !NOT_CACHE_OFF.includes(name)))) {
      console.log('Agora, response cache off');
      await withServer(startAgora(counter.url, false), (running) => agoraScenarios(running, fixtures, results, checks));
    }
    if (wanted('listing-cache-on', 'storefront-cache-on')) {
      console.log('Agora, response cache on');
      await withServer(startAgora(counter.url, true), async (running) => {
        if (wanted('listing-cache-on')) {
          const label = 'listing 50, cache on';
          results.push(await meter.measure('listing-cache-on', label, running, listing(50), LISTING_KIND));
        }
        if (wanted('storefront-cache-on')) {
          const label = 'storefront page, cache on';
          results.push(await meter.measure('storefront-cache-on', label, running, storefront(), STOREFRONT_KIND));
        }
      });
    }
    if (options.profile) {
      console.log('Agora under --cpu-prof, response cache off');
      profile = await profileListing(counter.url);
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error)); // report what was measured, then fail
  } finally {
    await driver.stop();
    await counter.close();
    await cleanRedis().catch((error: unknown) => console.error('could not clean up Redis keys:', error));
  }

  const report: BenchReport = {
    startedAt,
    machine,
    settings,
    scenarios: results,
    sizeChecks: checks,
    pageComparisons: pageComparisons(),
    targets: [],
    serverProblems,
    failure: failure?.message ?? null,
    profile,
  };
  report.targets = evaluateTargets(report);
  console.log(`\n${formatReport(report)}`);
  writeJson(options.report, report);
  console.log(`\nJSON: ${path.relative(ROOT, options.report)}`);
  if (failure) throw failure;
}

await main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
