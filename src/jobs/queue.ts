// Background jobs for side effects that must not slow a request down (emails after an order changes). BullMQ on
// Redis when configured, so every instance shares one queue and jobs survive restarts; an in-process queue
// otherwise. Both retry a failing job with exponential backoff, and both ignore a job ID they have seen already.
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

export interface JobData {
  orderId: string;
  /** The shipment a shipping notice is about. */
  fulfillmentId?: string;
}

export type JobHandler = (name: string, data: JobData) => Promise<void>;

/** Jobs by state, for metrics. `failed`: jobs that failed every attempt (BullMQ keeps the last 1,000). */
export interface JobCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface JobQueue {
  add(name: string, data: JobData, jobId: string): Promise<void>;
  /** Stops taking jobs and waits for the running ones. */
  close(): Promise<void>;
  /** Whether every instance shares this queue (BullMQ), so counts() reads the same everywhere. */
  readonly shared: boolean;
  counts(): Promise<JobCounts>;
  /** Calls `listener` after each failed attempt of a job; `final` when no attempt is left. */
  onFailure(listener: JobFailureListener): void;
}

export type JobFailureListener = (failure: { name: string; final: boolean }) => void;

const ATTEMPTS = 5;
const BACKOFF_MS = 1_000;

/** Job IDs the in-process queue remembers; older ones are forgotten so a long-running process does not grow. */
const REMEMBERED_JOB_IDS = 10_000;
/** How long close() waits for BullMQ when Redis does not answer (a worker's close otherwise waits for Redis). */
const CLOSE_TIMEOUT_MS = 5_000;
/** Redis errors are logged at most this often: a client retrying an unreachable server fails several times a second. */
const ERROR_LOG_INTERVAL_MS = 30_000;

export function inProcessQueue(handler: JobHandler, logger: Logger, backoffMs = BACKOFF_MS): JobQueue {
  const seen = new Set<string>();
  const running = new Set<Promise<void>>();
  let closed = false;
  // Jobs start as soon as they are added, so none is ever waiting.
  const counts: JobCounts = { waiting: 0, active: 0, delayed: 0, failed: 0 };
  const failureListeners: JobFailureListener[] = [];
  const runOnce = async (name: string, data: JobData) => {
    counts.active++;
    try {
      await handler(name, data);
    } finally {
      counts.active--;
    }
  };
  const run = async (name: string, data: JobData, jobId: string) => {
    for (let attempt = 1; !closed; attempt++) {
      try {
        return await runOnce(name, data);
      } catch (error) {
        logger.warn({ err: error, job: name, jobId, attempt }, 'job failed');
        const final = attempt >= ATTEMPTS;
        for (const listener of failureListeners) listener({ name, final });
        if (final) {
          counts.failed++;
          return;
        }
        counts.delayed++;
        await new Promise((resolve) => setTimeout(resolve, backoffMs * 2 ** (attempt - 1)).unref());
        counts.delayed--;
      }
    }
  };
  return {
    shared: false,
    async counts() {
      return { ...counts };
    },
    onFailure(listener) {
      failureListeners.push(listener);
    },
    async add(name, data, jobId) {
      if (closed || seen.has(jobId)) return;
      seen.add(jobId);
      if (seen.size > REMEMBERED_JOB_IDS) seen.delete(seen.values().next().value!);
      const job = run(name, data, jobId).finally(() => running.delete(job));
      running.add(job);
    },
    async close() {
      closed = true;
      await Promise.all(running);
    },
  };
}

export function bullQueue(
  redisUrl: string,
  prefix: string,
  handler: JobHandler,
  logger: Logger,
  { closeTimeoutMs = CLOSE_TIMEOUT_MS }: { closeTimeoutMs?: number } = {},
): JobQueue {
  let lastErrorLog = 0;
  const logError = (source: string) => (error: Error) => {
    if (Date.now() - lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    lastErrorLog = Date.now();
    logger.error({ err: error, source }, 'job queue: Redis error (retrying; repeats are not logged for 30 s)');
  };
  // BullMQ's blocking worker connection needs unlimited retries per request. BullMQ reports these connections'
  // errors through the queue and the worker; the listener here only keeps ioredis from printing them as unhandled.
  // BullMQ never closes a connection it is given, so close() below does.
  // Named after the prefix (CLIENT LIST shows whose connections they are); Redis refuses names with spaces.
  const connectionName = `${prefix}:jobs`.replace(/[^\w:.-]/g, '_');
  const connections: Redis[] = [];
  const connection = () => {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null, connectionName }).on('error', () => {});
    connections.push(redis);
    return redis;
  };
  const queue = new Queue<JobData>('jobs', { connection: connection(), prefix });
  const worker = new Worker<JobData>('jobs', (job) => handler(job.name, job.data), {
    connection: connection(),
    prefix,
  });
  // Without these listeners BullMQ writes every connection error to stderr, bypassing the logger.
  queue.on('error', logError('queue'));
  worker.on('error', logError('worker'));
  worker.on('failed', (job, error) => logger.warn({ err: error, job: job?.name, jobId: job?.id }, 'job failed'));
  return {
    shared: true,
    async counts() {
      const {
        waiting = 0,
        active = 0,
        delayed = 0,
        failed = 0,
      } = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
      return { waiting, active, delayed, failed };
    },
    onFailure(listener) {
      // Emitted after BullMQ has counted the attempt: the job is final once it has used every attempt it had.
      worker.on('failed', (job) =>
        listener({ name: job?.name ?? 'unknown', final: !job || job.attemptsMade >= (job.opts.attempts ?? 1) }),
      );
    },
    async add(name, data, jobId) {
      await queue.add(name, data, {
        jobId,
        attempts: ATTEMPTS,
        backoff: { type: 'exponential', delay: BACKOFF_MS },
        removeOnComplete: 1_000,
        removeOnFail: 1_000,
      });
    },
    async close() {
      // The worker finishes its running job; with Redis unreachable it would wait for Redis forever. A job cut off
      // here is not lost: BullMQ hands a stalled job to another worker.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>(
        (resolve) => (timer = setTimeout(() => resolve('timeout'), closeTimeoutMs)),
      );
      const closed = Promise.all([worker.close(), queue.close()]);
      const outcome = await Promise.race([closed, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        logger.warn('job queue: Redis did not answer while closing; disconnecting');
        closed.catch(() => {});
        for (const redis of connections) redis.disconnect();
      } else {
        await Promise.allSettled(connections.map((redis) => redis.quit()));
      }
    },
  };
}
