import 'dotenv/config';
import cluster from 'node:cluster';
import { createApp } from './app.js';
import { runPrimary, type WorkerReady } from './cluster.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(78);
}

// WORKERS > 1: this process only supervises (src/cluster.ts); each worker runs the code below it.
if (cluster.isPrimary && config.WORKERS > 1) {
  const url = await runPrimary(config, createLogger(config));
  console.log(`\n  Agora GraphQL API: ${url} (${config.WORKERS} workers)\n`);
} else {
  const logger = cluster.isWorker ? createLogger(config).child({ worker: cluster.worker!.id }) : createLogger(config);
  const app = await createApp(config, logger);
  const url = await app.listen();
  logger.info({ url }, 'Agora is ready');
  if (cluster.isWorker) process.send!({ agora: 'ready', url } satisfies WorkerReady);
  else console.log(`\n  Agora GraphQL API: ${url}\n`);

  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        logger.error('shutdown timed out; exiting');
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS);
      force.unref();
      app.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
