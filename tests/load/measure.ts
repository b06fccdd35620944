// Measuring one scenario: warm up, then drive the load while counting SQL statements, server, database and machine
// CPU, and resident memory; check sampled answers. Also the one-request-at-a-time SQL count of the page-size checks.
import type { StatementCounter } from '../support/statementCounter.js';
import { backendPids } from './database.js';
import type { DriveSpec } from './drive.js';
import { cpuMsOf, hostBusyMs, sampleRss, treeCpuMs, type Driver, type Service } from './processes.js';
import type { ScenarioResult } from './report.js';
import { post } from './scenarios.js';

/** A server under test and its GraphQL endpoint. */
export interface Running {
  service: Service;
  url: string;
}

export interface Load {
  bodies: string[];
  /** Send exactly this many requests instead of running for the duration. */
  amount?: number;
  /** What the warm-up sends (the same bodies for the warm-up duration when left out). */
  warmup?: { bodies: string[]; amount?: number };
  /** What is wrong with a successful answer, or null. */
  check: (body: string) => string | null;
}

/** What kind of server a scenario measures, for the table and the targets. */
export interface ScenarioKind {
  /** A reference server (the raw ones, PostGraphile) rather than Agora. */
  reference?: boolean;
  /** The scenario whose req/s the "x ref" column divides by. */
  baseline?: string;
}

export interface MeterSettings {
  connections: number;
  /** Seconds. */
  duration: number;
  warmup: number;
  /** The benchmark database, whose PostgreSQL backends' CPU is counted. */
  databaseUrl: string;
}

/** Microseconds of the monotonic clock (process.hrtime's, and V8 CPU profiles'). */
export type Window = { from: number; to: number };

export class Meter {
  /** When each scenario's load ran, to cut a CPU profile to it. */
  readonly windows = new Map<string, Window>();
  /** The first successful answer of each scenario. */
  readonly firstAnswers = new Map<string, string>();

  constructor(
    private readonly driver: Driver,
    private readonly counter: StatementCounter,
    private readonly settings: MeterSettings,
  ) {}

  async measure(
    name: string,
    label: string,
    running: Running,
    load: Load,
    kind: ScenarioKind = {},
  ): Promise<ScenarioResult> {
    const { connections, duration, warmup } = this.settings;
    const spec = { url: running.url, connections, duration };
    let warmupFailures = 0;
    if (warmup > 0) {
      const { bodies, amount } = load.warmup ?? { bodies: load.bodies };
      const result = await this.driver.run({
        ...spec,
        duration: warmup,
        bodies,
        samples: 0,
        ...(amount && { amount }),
      });
      warmupFailures = result.non2xx + result.transportErrors + result.graphqlErrors + result.userErrors;
    }
    await this.settle(); // requests cut off at the end of the warm-up still run on the server
    const dbBefore = await this.databaseCpuMs();
    const serverBefore = treeCpuMs(running.service.pid);
    const driverBefore = treeCpuMs(this.driver.pid);
    const hostBefore = hostBusyMs();
    const ownBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const rss = sampleRss(running.service.pid);
    this.counter.reset();

    const run: DriveSpec = { ...spec, bodies: load.bodies, samples: 3, ...(load.amount && { amount: load.amount }) };
    const drive = await this.driver.run(run);
    const peak = rss.stop();
    const loadMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (!running.service.alive()) {
      throw new Error(`${running.service.name} exited (${running.service.exitStatus()}) during "${label}"`);
    }
    // Requests still unanswered when the driver stopped count as sent: let them finish before reading.
    await this.settle();
    const statements = this.counter.count();
    const serverMs = treeCpuMs(running.service.pid) - serverBefore;
    const driverMs = treeCpuMs(this.driver.pid) - driverBefore;
    const hostMs = hostBusyMs() - hostBefore;
    const own = process.cpuUsage(ownBefore);
    const finished = process.hrtime.bigint();
    const wallMs = Number(finished - started) / 1e6;
    const dbAfter = await this.databaseCpuMs();
    const dbMs = [...dbAfter].reduce((sum, [pid, ms]) => sum + ms - (dbBefore.get(pid) ?? 0), 0);
    const benchMs = (own.user + own.system) / 1000;

    const sent = Math.max(drive.sent, 1);
    const result: ScenarioResult = {
      name,
      label,
      reference: kind.reference ?? false,
      ...(kind.baseline && { baseline: kind.baseline }),
      drive: { ...drive, samples: drive.samples.map((sample) => sample.slice(0, 2000)) },
      errors: drive.non2xx + drive.transportErrors + drive.graphqlErrors + drive.userErrors,
      statements,
      sqlPerRequest: statements / sent,
      serverCpuMs: serverMs,
      cpuMsPerRequest: serverMs / sent,
      serverCpuShare: serverMs / loadMs,
      dbCpuMsPerRequest: dbMs / sent,
      rss: peak,
      driverCpuShare: driverMs / loadMs,
      benchCpuMsPerRequest: benchMs / sent,
      otherCpuShare: Math.max(0, hostMs - serverMs - dbMs - driverMs - benchMs) / wallMs,
      problems: [
        ...drive.samples.map(load.check).filter((problem): problem is string => problem !== null),
        ...drive.errorSamples.map((sample) => `error answer: ${sample}`),
        ...(drive.samples.length ? [] : ['no successful answer to check']),
        ...(warmupFailures ? [`${warmupFailures} failed requests during the warm-up`] : []),
      ],
    };
    if (result.driverCpuShare > 0.8) {
      const percent = (100 * result.driverCpuShare).toFixed(0);
      result.problems.push(`the load driver used ${percent}% of a CPU: it may be the limit`);
    }
    this.windows.set(name, { from: Number(started / 1000n), to: Number(finished / 1000n) });
    if (drive.samples[0]) this.firstAnswers.set(name, drive.samples[0]);
    const { rps, latencyMs } = drive;
    console.log(
      `  ${label}: ${rps.toFixed(0)} req/s, p50 ${latencyMs.p50} ms, p99 ${latencyMs.p99} ms, ${result.errors} errors, ` +
        `${result.sqlPerRequest.toFixed(2)} SQL/req, ${result.cpuMsPerRequest.toFixed(2)} CPU ms/req` +
        (result.problems.length ? `\n    problems: ${result.problems.join('\n    ')}` : ''),
    );
    return result;
  }

  /** SQL statements one request sends: the median over `bodies`, sent one at a time. */
  async statementsPerRequest(url: string, bodies: string[]): Promise<number> {
    const counts: number[] = [];
    for (const body of bodies) {
      this.counter.reset();
      const { status, text } = await post(url, body);
      if (status !== 200 || text.includes('"errors":') || text.includes('"userErrors":[{')) {
        throw new Error(`probe request failed (${status}): ${text.slice(0, 500)}`);
      }
      counts.push(this.counter.count());
    }
    return counts.sort((a, b) => a - b)[Math.floor(counts.length / 2)]!;
  }

  /** Waits until no SQL statement has been sent for 300 ms (at most 10 s). */
  private async settle(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (let last = -1; this.counter.count() !== last && Date.now() < deadline;) {
      last = this.counter.count();
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }

  private async databaseCpuMs(): Promise<Map<number, number>> {
    return cpuMsOf(await backendPids(this.settings.databaseUrl));
  }
}
