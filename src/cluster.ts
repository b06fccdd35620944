// WORKERS > 1: this process is the cluster's primary. It does the one-time start-up work, forks the workers that
// serve PORT together (node:cluster hands them connections in turn), replaces a worker that dies, and on
// SIGTERM/SIGINT has every worker drain and exit before it exits itself. It serves no requests of its own.
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.js';
import { prepareOnce } from './db/startup.js';
import { serveClusterMetrics } from './observability/metricsCluster.js';
import type { Logger } from './logger.js';

/** What a worker tells the primary once it listens. */
export interface WorkerReady {
  agora: 'ready';
  url: string;
}

export const isWorkerReady = (message: unknown): message is WorkerReady =>
  (message as Partial<WorkerReady> | null)?.agora === 'ready';

export interface ClusterOptions {
  /** Unexpected worker exits tolerated within `crashWindowMs` before the primary gives up and exits 1. */
  maxCrashes?: number;
  crashWindowMs?: number;
}

/** Delay before replacing a worker, growing with the number of recent crashes: 0, 0.5 s, 1 s, 2 s, ... 10 s. */
export const restartDelayMs = (recentCrashes: number): number =>
  recentCrashes <= 1 ? 0 : Math.min(500 * 2 ** (recentCrashes - 2), 10_000);

/**
 * Prepares the database, starts the workers and resolves with the GraphQL endpoint's URL once all of them listen.
 * From then on the primary runs until a signal stops it (or a restart storm), and exits the process itself.
 */
export async function runPrimary(config: Config, logger: Logger, options: ClusterOptions = {}): Promise<string> {
  const maxCrashes = options.maxCrashes ?? Math.max(5, 2 * config.WORKERS);
  const crashWindowMs = options.crashWindowMs ?? 60_000;
  const log = logger.child({ cluster: 'primary' });

  await prepareOnce(config, log);
  // Each worker's /metrics only knows itself; Prometheus scrapes the sum of them here.
  const metrics =
    config.METRICS_PORT === undefined
      ? null
      : await serveClusterMetrics({
          port: config.METRICS_PORT,
          host: config.HOST,
          token: config.METRICS_TOKEN,
          logger: log,
        });
  if (metrics) log.info({ url: metrics.url }, "serving the workers' metrics");
  else log.warn("METRICS_PORT is not set: each worker's /metrics shows that worker alone");

  // Workers load their configuration from this environment. Outside production the secrets may have been generated
  // by this process's loadConfig, and every worker must sign and verify with the same ones.
  const workerEnv = {
    JWT_SECRET: config.JWT_SECRET,
    PAYMENT_WEBHOOK_SECRET: config.PAYMENT_WEBHOOK_SECRET,
  };
  const crashes: number[] = [];
  const ready = new Set<number>();
  let stopping = false;
  let announce: (url: string) => void;
  const allReady = new Promise<string>((resolve) => (announce = resolve));

  const fork = () => {
    const worker = cluster.fork(workerEnv);
    log.info({ worker: worker.id, pid: worker.process.pid }, 'worker started');
    worker.on('message', (message: unknown) => {
      if (!isWorkerReady(message)) return;
      ready.add(worker.id);
      if (ready.size >= config.WORKERS) announce(message.url);
    });
  };

  const liveWorkers = (): Worker[] =>
    Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w) && !w!.isDead());

  const stop = (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'stopping: every worker drains, then exits');
    void metrics?.close();
    const force = setTimeout(() => {
      log.error('workers did not stop in time; killing them');
      for (const worker of liveWorkers()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 5_000);
    force.unref();
    let clean = exitCode === 0;
    const finish = () => {
      if (liveWorkers().length === 0) process.exit(clean ? 0 : 1);
    };
    cluster.on('exit', (_worker, code, signal) => {
      // A worker still starting up has nothing to drain and may end by the SIGTERM itself.
      if (code !== 0 && signal !== 'SIGTERM') clean = false;
      finish();
    });
    for (const worker of liveWorkers()) worker.process.kill('SIGTERM');
    finish();
  };

  cluster.on('exit', (worker, code, signal) => {
    ready.delete(worker.id);
    if (stopping) return;
    const now = Date.now();
    crashes.push(now);
    while (crashes.length && crashes[0]! <= now - crashWindowMs) crashes.shift();
    if (crashes.length > maxCrashes) {
      log.fatal(
        { worker: worker.id, code, signal, crashes: crashes.length, windowMs: crashWindowMs },
        'workers keep dying; giving up',
      );
      stop('restart storm', 1);
      return;
    }
    const delay = restartDelayMs(crashes.length);
    log.error(
      { worker: worker.id, pid: worker.process.pid, code, signal, restartInMs: delay },
      'worker exited; replacing it',
    );
    setTimeout(() => {
      if (!stopping) fork();
    }, delay);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop(signal, 0));

  for (let i = 0; i < config.WORKERS; i++) fork();
  const url = await allReady;
  log.info({ url, workers: config.WORKERS }, 'all workers are ready');
  return url;
}
