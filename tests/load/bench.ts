// npm run bench [-- --duration 10 --connections 20 --only … --profile]: Agora on the real PostgreSQL and Redis with a
// benchmark-sized catalog, driven by autocannon from a separate process, side by side with a reference server (one
// json_agg statement through pg behind node:http). Prints a table per scenario and the targets, and writes JSON.
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
import { describeMachine, freePort, ROOT, startDriver, startService } from './processes.js';
import { summarizeProfile } from './profile.js';
import {
  evaluateTargets,
  formatReport,
  writeJson,
  type BenchReport,
  type ScenarioResult,
  type SizeCheck,
} from './report.js';
import {
  cartAddBodies,
  checkCartAdd,
  checkCheckout,
  checkListing,
  checkoutBodies,
  checkProduct,
  createCarts,
  firstDifference,
  listingBody,
  prepareCheckoutCarts,
  productBodies,
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
  'listing-cache-off',
  'listing-10-cache-off',
  'product-detail',
  'size-checks',
  'cart-add',
  'checkout',
  'listing-cache-on',
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
  only: (flags.only ?? process.env.BENCH_ONLY ?? '').split(',').filter(Boolean),
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
if (unknown.length) throw new Error(`--only: unknown ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
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

async function startReference(databaseUrl: string): Promise<Running> {
  const port = await freePort();
  const env = { REFERENCE_DATABASE_URL: databaseUrl, PORT: String(port), PAGE_SIZE: '50', POOL_SIZE: '10' };
  const service = await startService(
    'reference',
    ['--import', 'tsx', 'tests/load/reference.ts'],
    env,
    `http://127.0.0.1:${port}/healthz`,
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

/** Every scenario of the server with the response cache off, in order; checkout last, as it leaves work behind. */
async function agoraScenarios(running: Running, fixtures: Fixtures, results: ScenarioResult[], checks: SizeCheck[]) {
  const { url } = running;
  const variants = fixtures.stockedVariantIds.map(variantGid);

  if (wanted('listing-cache-off')) {
    results.push(await meter.measure('listing-cache-off', 'listing 50, cache off', running, listing(50)));
  }
  if (wanted('listing-10-cache-off')) {
    results.push(await meter.measure('listing-10-cache-off', 'listing 10, cache off', running, listing(10)));
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
    meter.measure('listing-cache-off-profiled', 'listing 50, cache off, profiled', running, listing(50)),
  );
  const [file] = readdirSync(directory)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => path.join(directory, name))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  if (!file) throw new Error(`no CPU profile written to ${directory}`);
  const window = meter.windows.get(result.name);
  return { file: path.relative(ROOT, file), window, result, ...summarizeProfile(file, 15, window) };
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
    reference: 'node --import tsx tests/load/reference.ts (node:http + pg Pool of 10, one json_agg statement)',
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
      `  load: autocannon in a separate process, ${options.connections} connections, ${options.warmup} s warm-up then ` +
        `${options.duration} s per scenario (checkout: a fixed number of requests, ${settings.load.checkouts}), ` +
        'POST application/json',
      `  SQL: ${settings.sql} (the reference's too)`,
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
      await withServer(startReference(counter.url), async (running) => {
        results.push(await meter.measure('reference', 'reference (node:http + pg, 1 SQL)', running, listing(50)));
      });
    }
    if (wanted(...SCENARIOS.filter((name) => !['reference', 'listing-cache-on'].includes(name)))) {
      console.log('Agora, response cache off');
      await withServer(startAgora(counter.url, false), (running) => agoraScenarios(running, fixtures, results, checks));
    }
    if (wanted('listing-cache-on')) {
      console.log('Agora, response cache on');
      await withServer(startAgora(counter.url, true), async (running) => {
        results.push(await meter.measure('listing-cache-on', 'listing 50, cache on', running, listing(50)));
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

  // Agora adds `extensions` (the query cost); the data must be the same.
  const referenceAnswer = meter.firstAnswers.get('reference');
  const agoraAnswer = meter.firstAnswers.get('listing-cache-off');
  const referenceCompared = Boolean(referenceAnswer && agoraAnswer);
  const report: BenchReport = {
    startedAt,
    machine,
    settings,
    scenarios: results,
    sizeChecks: checks,
    referenceCompared,
    referenceDifference: referenceCompared
      ? firstDifference(JSON.parse(referenceAnswer!).data, JSON.parse(agoraAnswer!).data, '$.data')
      : 'not compared: the reference or the uncached listing did not run',
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
