// The real entry point (src/main.ts, what `npm start` runs minus the build) as a process of its own, on a free port:
// for tests that must see a process die (an unhandled error, a kill) rather than a server inside the test's process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

export interface Instance {
  name: string;
  port: number;
  /** The GraphQL endpoint, http://127.0.0.1:<port>/graphql. */
  url: string;
  wsUrl: string;
  child: ChildProcess;
  /** Everything the process wrote, stdout and stderr. */
  output(): string;
  /** Resolves once the server listens; fails if it exits first or takes longer than `timeoutMs`. */
  waitUntilReady(timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** Whether the process has exited, and how. */
  readonly exited: boolean;
  readonly exitCode: number | null;
  readonly exitSignal: NodeJS.Signals | null;
  whenExited: Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns `node --import tsx src/main.ts` (what `npm start` runs, minus the build) on a free port with `env` on top
 * of ours (an undefined value removes the variable). */
export async function startInstance(name: string, env: Record<string, string | undefined>): Promise<Instance> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, PORT: String(port) };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete childEnv[key];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: childEnv });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  const whenExited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const ready = () => output.includes('Agora is ready') || /Agora GraphQL API: \S+/.test(output);
  const instance: Instance = {
    name,
    port,
    url: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    child,
    output: () => output,
    async waitUntilReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!ready()) {
        if (exited)
          throw new Error(`instance ${name} exited (${child.exitCode ?? child.signalCode}) first:\n${output}`);
        if (Date.now() > deadline) throw new Error(`instance ${name} not ready after ${timeoutMs} ms:\n${output}`);
        await sleep(50);
      }
    },
    kill(signal) {
      if (!exited) child.kill(signal);
    },
    get exited() {
      return exited;
    },
    get exitCode() {
      return child.exitCode;
    },
    get exitSignal() {
      return child.signalCode;
    },
    whenExited,
    async stop(graceMs = 8_000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await whenExited;
      clearTimeout(timer);
    },
  };
  return instance;
}
