// Metrics of a cluster (WORKERS > 1). A worker's own /metrics only knows that worker, and node:cluster hands each
// scrape to any one of them; the primary instead asks every worker for its registry over the IPC channel and serves
// the sum on a port of its own (METRICS_PORT). prom-client's AggregatorRegistry does the asking and the summing:
// counters and histograms add up, and each gauge follows its `aggregator` (sum by default). Workers answer with their
// app's registry (see exposeToPrimary in metrics.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from '../logger.js';
import { bearerMatches } from './metrics.js';

export interface ClusterMetricsOptions {
  port: number;
  host: string;
  /** METRICS_TOKEN: when set, scrapes need `Authorization: Bearer <token>`. */
  token?: string;
  logger: Logger;
}

export interface ClusterMetricsServer {
  /** Where the summed metrics are served, e.g. http://127.0.0.1:9464/metrics. */
  url: string;
  close(): Promise<void>;
}

/** In the primary: serve every worker's metrics, summed, at GET /metrics on `port`. */
export async function serveClusterMetrics({
  port,
  host,
  token,
  logger,
}: ClusterMetricsOptions): Promise<ClusterMetricsServer> {
  const aggregator = new AggregatorRegistry();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      return;
    }
    if (token && !bearerMatches(req.headers.authorization, token)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' });
      res.end('Unauthorized\n');
      return;
    }
    aggregator.clusterMetrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': aggregator.contentType, 'cache-control': 'no-store' }).end(body);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'cluster metrics: a worker did not answer');
        res.writeHead(503, { 'content-type': 'text/plain' }).end('Worker metrics unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = ['0.0.0.0', '::'].includes(host) ? 'localhost' : host;
  return {
    url: `http://${shownHost}:${address.port}/metrics`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
