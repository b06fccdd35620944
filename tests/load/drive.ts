// The load generator, in a process of its own so that it never shares a CPU budget with a server it measures.
// Reads one DriveSpec per line on stdin, runs autocannon with it, and writes one DriveResult per line on stdout:
//   echo '{"url":"http://127.0.0.1:4000/graphql","connections":20,"duration":10,"bodies":["{…}"]}' | tsx tests/load/drive.ts
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

export interface DriveSpec {
  url: string;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  duration: number;
  /** Send exactly this many requests, then stop (each body once when there are this many bodies). */
  amount?: number;
  /** POSTed in turn, across all connections. */
  bodies: string[];
  headers?: Record<string, string>;
  /** How many 2xx response bodies to send back for checking. */
  samples?: number;
}

export interface DriveResult {
  /** Requests sent, including those still unanswered when the run ended. */
  sent: number;
  /** Responses received. */
  responses: number;
  seconds: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  non2xx: number;
  /** Socket errors and timeouts. */
  transportErrors: number;
  /** 2xx responses with GraphQL `errors`. */
  graphqlErrors: number;
  /** 2xx responses whose mutation payload has `userErrors`. */
  userErrors: number;
  bytesPerResponse: number;
  samples: string[];
  /** A few bodies of failed responses (shortened). */
  errorSamples: string[];
}

const GRAPHQL_ERRORS = '"errors":';
const USER_ERRORS = '"userErrors":[{';

export async function drive(spec: DriveSpec): Promise<DriveResult> {
  const counts = { responses: 0, non2xx: 0, graphqlErrors: 0, userErrors: 0, bytes: 0 };
  const samples: string[] = [];
  const errorSamples: string[] = [];
  let next = 0;
  const options: autocannon.Options = {
    url: spec.url,
    connections: spec.connections,
    duration: spec.duration,
    ...(spec.amount !== undefined && { amount: spec.amount }),
    method: 'POST',
    headers: { 'content-type': 'application/json', ...spec.headers },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: spec.bodies[next++ % spec.bodies.length] }),
        onResponse: (status, body) => {
          counts.responses += 1;
          counts.bytes += Buffer.byteLength(body);
          const failure =
            status < 200 || status > 299
              ? 'non2xx'
              : body.includes(GRAPHQL_ERRORS)
                ? 'graphqlErrors'
                : body.includes(USER_ERRORS)
                  ? 'userErrors'
                  : null;
          if (failure) {
            counts[failure] += 1;
            if (errorSamples.length < 3) errorSamples.push(`${status} ${body.slice(0, 600)}`);
          } else if (samples.length < (spec.samples ?? 2)) samples.push(body);
        },
      },
    ],
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error: Error | null, done: autocannon.Result) =>
      error ? reject(error) : resolve(done),
    );
    instance.on('reqError', (error: Error) => {
      if (errorSamples.length < 3) errorSamples.push(`transport: ${error.message}`);
    });
  });
  const { latency } = result;
  return {
    sent: next,
    responses: counts.responses,
    seconds: result.duration,
    rps: counts.responses / result.duration,
    latencyMs: { p50: latency.p50, p90: latency.p90, p99: latency.p99, mean: latency.average, max: latency.max },
    non2xx: counts.non2xx,
    transportErrors: result.errors + result.timeouts,
    graphqlErrors: counts.graphqlErrors,
    userErrors: counts.userErrors,
    bytesPerResponse: counts.responses ? counts.bytes / counts.responses : 0,
    samples,
    errorSamples,
  };
}

// One spec at a time, in order.
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const result = await drive(JSON.parse(line) as DriveSpec);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
