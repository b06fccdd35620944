// The results: one table row per scenario, the page-size checks, the targets with PASS/FAIL, and a JSON file.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DriveResult } from './drive.js';
import type { Window } from './measure.js';
import type { RssPeak } from './processes.js';
import { selfTimeLines, type ProfileSummary } from './profile.js';

export interface ScenarioResult {
  name: string;
  label: string;
  /** Whether the scenario ran against a reference server (raw node:http + pg, or PostGraphile) rather than Agora. */
  reference: boolean;
  /** The scenario whose req/s the "x ref" column divides this one's by (a raw reference of the same page). */
  baseline?: string;
  drive: DriveResult;
  /** Errors of any kind: non-2xx, transport, GraphQL errors, userErrors. */
  errors: number;
  statements: number;
  sqlPerRequest: number;
  serverCpuMs: number;
  /** Server CPU per request sent (answered or cut off at the end). */
  cpuMsPerRequest: number;
  /** Server CPU over the load, as a share of one CPU (near 1 for one busy process). */
  serverCpuShare: number;
  /** CPU of the PostgreSQL backends serving the benchmark database. */
  dbCpuMsPerRequest: number;
  rss: RssPeak;
  /** CPU the load driver used, as a share of one CPU over the scenario (near 1: the driver may be the limit). */
  driverCpuShare: number;
  /** CPU of the benchmark process itself per request: mostly the statement-counting proxy. */
  benchCpuMsPerRequest: number;
  /** CPU that processes outside the benchmark used meanwhile (a shared machine), as a share of one CPU. */
  otherCpuShare: number;
  /** What the checks of sampled answers found wrong. */
  problems: string[];
}

export interface SizeCheck {
  name: string;
  /** SQL statements for one request (median of several), small then large. */
  small: { label: string; statements: number };
  large: { label: string; statements: number };
}

export interface PageComparison {
  name: string;
  compared: boolean;
  /** Where the two differ (null: identical), or why they were not compared. */
  difference: string | null;
}

export interface Target {
  name: string;
  pass: boolean;
  detail: string;
}

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

export function scenarioTable(results: ScenarioResult[]): string {
  const rpsOf = new Map(results.map((result) => [result.name, result.drive.rps]));
  const header = [
    'scenario',
    'req/s',
    'x ref',
    'p50 ms',
    'p99 ms',
    'p99/p50',
    'errors',
    'SQL/req',
    'CPU ms/req',
    'DB CPU ms/req',
    'server CPU %',
    'other CPU %',
    'peak RSS MB',
  ];
  const rows = results.map((result) => {
    const { rps, latencyMs } = result.drive;
    const baseline = result.baseline ? rpsOf.get(result.baseline) : undefined;
    const ratio = baseline ? fixed(rps / baseline, 2) : result.reference && !result.baseline ? '1.00' : '';
    return [
      result.label,
      fixed(rps, 0),
      ratio,
      fixed(latencyMs.p50),
      fixed(latencyMs.p99),
      fixed(latencyMs.p99 / latencyMs.p50, 2),
      `${result.errors}/${result.drive.responses}`,
      fixed(result.sqlPerRequest, 2),
      fixed(result.cpuMsPerRequest, 2),
      fixed(result.dbCpuMsPerRequest, 2),
      fixed(100 * result.serverCpuShare, 0),
      fixed(100 * result.otherCpuShare, 0),
      fixed(result.rss.instanceMb, 0),
    ];
  });
  return table(header, rows);
}

export function sizeCheckTable(checks: SizeCheck[]): string {
  return table(
    ['SQL per request', 'small', 'statements', 'large', 'statements', 'equal'],
    checks.map(({ name, small, large }) => [
      name,
      small.label,
      String(small.statements),
      large.label,
      String(large.statements),
      small.statements === large.statements ? 'yes' : 'NO',
    ]),
  );
}

/** The issue's targets, from one run's side-by-side numbers. */
export function evaluateTargets(report: Omit<BenchReport, 'targets'>): Target[] {
  const { scenarios: results, sizeChecks: checks } = report;
  const find = (name: string) => results.find((result) => result.name === name);
  const reference = find('reference');
  const uncached = find('listing-cache-off');
  const cached = find('listing-cache-on');
  const agora = results.filter((result) => !result.reference);
  const targets: Target[] = [];
  if (reference && uncached) {
    const ratio = uncached.drive.rps / reference.drive.rps;
    const cpuRatio =
      (reference.cpuMsPerRequest + reference.dbCpuMsPerRequest) /
      (uncached.cpuMsPerRequest + uncached.dbCpuMsPerRequest);
    targets.push({
      name: 'uncached listing >= 0.3 x reference req/s (aim 0.5)',
      pass: ratio >= 0.3,
      detail: `${fixed(ratio, 2)} (${ratio >= 0.5 ? 'meets the aim' : 'below the 0.5 aim'}; by server+DB CPU per request: ${fixed(cpuRatio, 2)})`,
    });
  }
  targets.push(...storefrontTargets(find));
  const spread = agora.filter((result) => !(result.drive.latencyMs.p99 <= 3 * result.drive.latencyMs.p50));
  if (agora.length) {
    targets.push({
      name: 'p99 <= 3 x p50 in every Agora scenario',
      pass: spread.length === 0,
      detail: spread.length
        ? `not in: ${spread.map((r) => `${r.label} (${fixed(r.drive.latencyMs.p99 / r.drive.latencyMs.p50, 2)})`).join(', ')}`
        : 'all',
    });
  }
  if (cached && uncached) {
    const ratio = cached.drive.rps / uncached.drive.rps;
    targets.push({ name: 'cached listing >= 5 x uncached req/s', pass: ratio >= 5, detail: fixed(ratio, 2) });
  }
  const unequal = checks.filter((check) => check.small.statements !== check.large.statements);
  if (checks.length) {
    targets.push({
      name: 'SQL statements per request independent of page size',
      pass: unequal.length === 0,
      detail: unequal.length ? `differs for: ${unequal.map((check) => check.name).join(', ')}` : 'equal in every check',
    });
  }
  if (agora.length) {
    const rss = Math.max(...agora.map((result) => result.rss.instanceMb));
    targets.push({
      name: 'peak RSS per instance under load <= 300 MB',
      pass: rss <= 300,
      detail: `${fixed(rss, 0)} MB`,
    });
  }
  const failing = results.filter((result) => result.errors > 0 || result.problems.length > 0);
  targets.push({
    name: 'no errors, and sampled answers correct',
    pass: failing.length === 0,
    detail: failing.length ? `see: ${failing.map((r) => r.label).join(', ')}` : 'all',
  });
  const compared = report.pageComparisons.filter((comparison) => comparison.compared);
  if (compared.length) {
    const differing = compared.filter((comparison) => comparison.difference !== null);
    targets.push({
      name: "the references' pages equal Agora's data",
      pass: differing.length === 0,
      detail: differing.length
        ? differing.map((comparison) => `${comparison.name}: ${comparison.difference}`).join('; ')
        : `identical (${compared.map((comparison) => comparison.name).join('; ')})`,
    });
  }
  return targets;
}

/** Issue 13's targets for the storefront page, against the raw reference and PostGraphile of the same page. */
function storefrontTargets(find: (name: string) => ScenarioResult | undefined): Target[] {
  const raw = find('storefront-reference');
  const postgraphile = find('storefront-postgraphile');
  const uncached = find('storefront-cache-off');
  const cached = find('storefront-cache-on');
  const total = (result: ScenarioResult) => result.cpuMsPerRequest + result.dbCpuMsPerRequest;
  const cpu = (result: ScenarioResult) =>
    `${fixed(total(result), 2)} (server ${fixed(result.cpuMsPerRequest, 2)} + DB ${fixed(result.dbCpuMsPerRequest, 2)})`;
  const targets: Target[] = [];
  if (uncached && postgraphile) {
    targets.push({
      name: "uncached storefront page: server+DB CPU ms/req <= PostGraphile's",
      pass: total(uncached) <= total(postgraphile),
      detail: `Agora ${cpu(uncached)}, PostGraphile ${cpu(postgraphile)}: ${fixed(total(uncached) / total(postgraphile), 2)} x`,
    });
  }
  if (uncached && raw) {
    const ratio = uncached.drive.rps / raw.drive.rps;
    const cpuRatio = total(raw) / total(uncached);
    targets.push({
      name: 'uncached storefront page >= 0.5 x raw reference req/s',
      pass: ratio >= 0.5,
      detail: `${fixed(ratio, 2)} (by server+DB CPU per request: ${fixed(cpuRatio, 2)})`,
    });
    const dbRatio = uncached.dbCpuMsPerRequest / raw.dbCpuMsPerRequest;
    targets.push({
      name: "uncached storefront page DB CPU ms/req <= 1.5 x raw reference's",
      pass: dbRatio <= 1.5,
      detail: `${fixed(dbRatio, 2)} x (${fixed(uncached.dbCpuMsPerRequest, 2)} vs ${fixed(raw.dbCpuMsPerRequest, 2)} ms)`,
    });
  }
  if (cached) {
    targets.push({
      name: 'cached storefront page server CPU <= 0.3 ms/req',
      pass: cached.cpuMsPerRequest <= 0.3,
      detail: `${fixed(cached.cpuMsPerRequest, 2)} ms`,
    });
  }
  if (cached && raw) {
    const ratio = cached.drive.rps / raw.drive.rps;
    targets.push({
      name: 'cached storefront page >= 0.8 x raw reference req/s',
      pass: ratio >= 0.8,
      detail: fixed(ratio, 2),
    });
  }
  return targets;
}

export const targetLines = (targets: Target[]) =>
  targets.map((target) => `${target.pass ? 'PASS' : 'FAIL'}  ${target.name}: ${target.detail}`).join('\n');

/** Everything one run found; written as JSON. */
export interface BenchReport {
  startedAt: string;
  machine: { cpus: number; commit: string } & Record<string, unknown>;
  settings: Record<string, unknown>;
  scenarios: ScenarioResult[];
  sizeChecks: SizeCheck[];
  /** Each reference's page against Agora's data for the same page. */
  pageComparisons: PageComparison[];
  targets: Target[];
  /** Warning and error lines the servers wrote. */
  serverProblems: string[];
  /** Why the run stopped early, if it did. */
  failure: string | null;
  profile: (ProfileSummary & { file: string; window: Window | undefined; result: ScenarioResult }) | null;
}

export function formatReport(report: BenchReport): string {
  const lines = [
    `Results (${report.startedAt}, ${report.machine.cpus} CPUs, one run, side by side)`,
    '',
    scenarioTable(report.scenarios),
    '',
    'x ref: req/s / req/s of the raw reference (node:http + pg) for the same page. Per request means per request',
    'sent. CPU ms/req: the server process (and workers), user + system. DB CPU ms/req: the PostgreSQL backends',
    'serving the benchmark database. server CPU %, other CPU %: the server, and every process outside the benchmark,',
    'as a share of one CPU.',
    '',
    ...(report.sizeChecks.length ? [sizeCheckTable(report.sizeChecks), ''] : []),
    ...report.pageComparisons.map(
      (comparison) =>
        `${comparison.name}: ${comparison.compared ? (comparison.difference ?? 'identical JSON') : comparison.difference}`,
    ),
    '',
    targetLines(report.targets),
  ];
  const troubled = report.scenarios.filter((result) => result.problems.length);
  if (troubled.length) {
    lines.push('', 'Problems:');
    for (const result of troubled) lines.push(`  ${result.label}:`, ...result.problems.map((p) => `    ${p}`));
  }
  if (report.serverProblems.length) {
    lines.push('', `Server warnings and errors (${report.serverProblems.length} lines, the last 10):`);
    lines.push(...report.serverProblems.slice(-10));
  }
  if (report.profile) {
    const { profile } = report;
    const scope = profile.windowed ? 'during the load' : 'over the whole process (no samples matched the load)';
    lines.push('', `CPU profile of the uncached listing (${profile.file}), self time ${scope}:`);
    lines.push(...selfTimeLines(profile.functions), '', 'by module:', ...selfTimeLines(profile.modules));
  }
  if (report.failure) lines.push('', `The run stopped early: ${report.failure}`);
  return lines.join('\n');
}

export function writeJson(file: string, report: BenchReport): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
