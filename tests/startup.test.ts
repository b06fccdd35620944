// The README's quick start, as a newcomer runs it: no DATABASE_URL, a fresh data folder, then SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

function startServer(dataDir: string): { child: ChildProcess; url: Promise<string>; output: () => string } {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' };
  delete env.DATABASE_URL;
  delete env.NODE_ENV;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Agora GraphQL API: (\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  return { child, url, output: () => output };
}

const exitCode = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('npm start on a fresh machine', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'agora-start-'));
  let server: ReturnType<typeof startServer>;
  let url: string;

  beforeAll(async () => {
    server = startServer(dataDir);
    url = await server.url;
  }, 120_000);
  afterAll(() => {
    server.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs on the embedded database, migrated and seeded with the demo catalog', async () => {
    expect(server.output()).toContain('using embedded PostgreSQL');
    expect(server.output()).toContain('applied database migrations');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: '{ products(first: 1) { totalCount } categories(topLevel: true) { totalCount } }',
      }),
    });
    expect(await response.json()).toMatchObject({
      data: { products: { totalCount: 300 }, categories: { totalCount: 8 } },
    });
    expect(await (await fetch(new URL('/readyz', url))).json()).toEqual({ status: 'ready' });
  });

  it('shuts down cleanly on SIGTERM and keeps its data for the next start', async () => {
    const exited = exitCode(server.child);
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);

    server = startServer(dataDir);
    url = await server.url;
    expect(server.output()).not.toContain('applied database migrations');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ products(first: 1) { totalCount } }' }),
    });
    expect(await response.json()).toMatchObject({ data: { products: { totalCount: 300 } } });
    const exitedAgain = exitCode(server.child);
    server.child.kill('SIGTERM');
    expect(await exitedAgain).toBe(0);
  }, 120_000);
});
