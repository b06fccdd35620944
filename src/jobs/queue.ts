// Background jobs for side effects that must not slow a request down (emails after an order changes). BullMQ on
// Redis when configured, so every instance shares one queue and jobs survive restarts; an in-process queue
// otherwise. Both retry a failing job with exponential backoff, and both ignore a job ID they have seen already.
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

export interface JobData {
  orderId: string;
}

export type JobHandler = (name: string, data: JobData) => Promise<void>;

export interface JobQueue {
  add(name: string, data: JobData, jobId: string): Promise<void>;
  /** Stops taking jobs and waits for the running ones. */
  close(): Promise<void>;
}

const ATTEMPTS = 5;
const BACKOFF_MS = 1_000;

export function inProcessQueue(handler: JobHandler, logger: Logger, backoffMs = BACKOFF_MS): JobQueue {
  const seen = new Set<string>();
  const running = new Set<Promise<void>>();
  let closed = false;
  const run = async (name: string, data: JobData, jobId: string) => {
    for (let attempt = 1; !closed; attempt++) {
      try {
        return await handler(name, data);
      } catch (error) {
        logger.warn({ err: error, job: name, jobId, attempt }, 'job failed');
        if (attempt >= ATTEMPTS) return;
        await new Promise((resolve) => setTimeout(resolve, backoffMs * 2 ** (attempt - 1)).unref());
      }
    }
  };
  return {
    async add(name, data, jobId) {
      if (closed || seen.has(jobId)) return;
      seen.add(jobId);
      const job = run(name, data, jobId).finally(() => running.delete(job));
      running.add(job);
    },
    async close() {
      closed = true;
      await Promise.all(running);
    },
  };
}

export function bullQueue(redisUrl: string, prefix: string, handler: JobHandler, logger: Logger): JobQueue {
  // BullMQ's blocking worker connection needs unlimited retries per request.
  const connection = () => new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<JobData>('jobs', { connection: connection(), prefix });
  const worker = new Worker<JobData>('jobs', (job) => handler(job.name, job.data), {
    connection: connection(),
    prefix,
  });
  worker.on('failed', (job, error) => logger.warn({ err: error, job: job?.name, jobId: job?.id }, 'job failed'));
  return {
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
      await worker.close();
      await queue.close();
    },
  };
}
