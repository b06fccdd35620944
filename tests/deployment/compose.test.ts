// docker-compose.yml and deploy/nginx.conf: two instances of one image behind nginx on one PostgreSQL and Redis,
// started in order of health, configured only with src/config.ts's variables, and a balancer that fails over
// without ever re-sending a POST. (No compose-spec JSON schema ships in an installed package, so the structure is
// asserted here.)
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import {
  appRoutes,
  configKeys,
  generatedSecret,
  nginxBlock,
  parseEnvFile,
  readRepoFile,
  readYaml,
  repoPath,
  SECRET_KEYS,
} from './support.js';

const compose = readYaml(repoPath('docker-compose.yml'));
const nginxConf = readRepoFile('deploy/nginx.conf');
const keys = configKeys();
const routes = appRoutes();

/** Services built from this repository's Dockerfile: the Agora instances. */
const agoraServices = (c: any): string[] =>
  Object.keys(c.services)
    .filter((name) => c.services[name].build)
    .sort();

const envOf = (service: any): Record<string, string> =>
  Array.isArray(service.environment)
    ? Object.fromEntries(
        service.environment.map((e: string) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
      )
    : { ...service.environment };

const envFilesOf = (service: any): string[] =>
  [service.env_file ?? []].flat().map((f: string | { path: string }) => (typeof f === 'string' ? f : f.path));

/** "30s", "1m30s", "500ms" → milliseconds. */
function duration(value: string): number {
  let total = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  return total;
}

/** A URL that carries no user or password (redis://redis:6379) may stand inline; any other secret may not. */
function credentialFree(value: string): boolean {
  try {
    const url = new URL(value);
    return !url.username && !url.password;
  } catch {
    return false;
  }
}

const healthyDependency = (service: any, name: string) => service.depends_on?.[name]?.condition === 'service_healthy';

function composeProblems(c: any, conf: string): string[] {
  const problems: string[] = [];
  const fail = (message: string) => problems.push(message);
  const services = c.services ?? {};
  const agora = agoraServices(c);
  if (agora.length !== 2) fail(`compose: expected 2 Agora services, found ${agora.length}`);
  const [first] = agora;
  const image = services[first!]?.image;
  for (const name of agora) {
    const s = services[name];
    if (s.image !== image) fail(`${name}: image ${s.image} differs from ${first}'s ${image}`);
    if (JSON.stringify(s.build) !== JSON.stringify(services[first!].build)) fail(`${name}: another build`);
    if ((s.build.dockerfile ?? 'Dockerfile') !== 'Dockerfile' || s.build.context !== '.') {
      fail(`${name}: not built from ./Dockerfile`);
    }
    for (const dependency of ['postgres', 'redis']) {
      if (!healthyDependency(s, dependency)) fail(`${name}: does not wait for a healthy ${dependency}`);
    }
    const check = JSON.stringify(s.healthcheck?.test ?? '');
    if (!check.includes('/readyz') || !routes.has('/readyz')) fail(`${name}: healthcheck does not call /readyz`);
    if (s.ports?.length) fail(`${name}: publishes ports; only the balancer should`);
    const env = envOf(s);
    for (const key of Object.keys(env)) {
      if (!keys.has(key)) fail(`${name}: ${key} is not a variable of src/config.ts`);
      if (SECRET_KEYS.has(key) && !credentialFree(env[key]!)) fail(`${name}: ${key} is a secret; use the env file`);
    }
    for (const file of envFilesOf(s)) {
      const example = repoPath(`${file}.example`);
      if (!existsSync(example)) fail(`${name}: env file ${file} has no ${file}.example template`);
      else {
        for (const key of Object.keys(parseEnvFile(readFileSync(example, 'utf8')))) {
          if (!keys.has(key)) fail(`${file}.example: ${key} is not a variable of src/config.ts`);
        }
      }
    }
    const shutdown = Number(env.SHUTDOWN_TIMEOUT_MS ?? 10_000);
    if (!(duration(s.stop_grace_period ?? '10s') > shutdown)) {
      fail(`${name}: stop_grace_period is not longer than SHUTDOWN_TIMEOUT_MS`);
    }
    if (s.labels?.['prometheus.io/scrape'] !== 'true') fail(`${name}: no prometheus.io/scrape label`);
    const redisHost = env.REDIS_URL && new URL(env.REDIS_URL).hostname;
    if (redisHost && !services[redisHost]) fail(`${name}: REDIS_URL host ${redisHost} is not a service`);
  }
  for (const name of ['postgres', 'redis']) {
    if (!services[name]?.healthcheck?.test) fail(`${name}: no healthcheck`);
  }
  if (!/^postgres:1[56]\b/.test(services.postgres?.image ?? '')) fail('postgres: not PostgreSQL 15 or 16');
  if (!/^redis:7\b/.test(services.redis?.image ?? '')) fail('redis: not Redis 7');

  // The balancer
  const lb = Object.entries<any>(services).find(([, s]) => /^nginx:/.test(s.image ?? ''));
  if (!lb) return [...problems, 'compose: no nginx service'];
  const [lbName, balancer] = lb;
  for (const name of agora) {
    if (!healthyDependency(balancer, name)) fail(`${lbName}: does not wait for a healthy ${name}`);
  }
  if (!balancer.ports?.length) fail(`${lbName}: publishes no port`);
  if (!balancer.healthcheck?.test) fail(`${lbName}: no healthcheck`);
  if (!(balancer.volumes ?? []).some((v: string) => v.startsWith('./deploy/nginx.conf:'))) {
    fail(`${lbName}: does not mount deploy/nginx.conf`);
  }

  // nginx.conf: both instances, failover that never re-sends a POST, WebSocket upgrade, nothing else exposed.
  const port = envOf(services[first!] ?? {}).PORT ?? '4000';
  const upstreamName = /proxy_pass\s+http:\/\/([\w-]+)\s*;/.exec(
    nginxBlock(conf, /location\s*=\s*\/graphql\s*\{/) ?? '',
  );
  if (!upstreamName) return [...problems, 'nginx: /graphql is not proxied to an upstream'];
  const upstream = nginxBlock(conf, new RegExp(`upstream\\s+${upstreamName[1]}\\s*\\{`)) ?? '';
  const servers = [...upstream.matchAll(/^\s*server\s+([^\s;]+)/gm)].map((m) => m[1]).sort();
  const expected = agora.map((name) => `${name}:${port}`);
  if (JSON.stringify(servers) !== JSON.stringify(expected)) {
    fail(`nginx: upstream lists ${servers.join(', ')}, expected ${expected.join(', ')}`);
  }
  if (!/max_fails=\d+/.test(upstream)) fail('nginx: upstream servers have no max_fails (passive health)');
  const text = conf.replace(/#[^\n]*/g, '');
  const nextUpstream = [...text.matchAll(/proxy_next_upstream\s+([^;]*);/g)].map((m) => m[1]!);
  if (!nextUpstream.length) fail('nginx: no proxy_next_upstream: a failed instance is not skipped');
  if (nextUpstream.some((v) => /\bnon_idempotent\b/.test(v))) fail('nginx: proxy_next_upstream re-sends POSTs');
  if (!/proxy_set_header\s+Upgrade\s+\$http_upgrade\s*;/.test(text)) fail('nginx: no Upgrade header for graphql-ws');
  if (!/proxy_set_header\s+Connection\s+\$connection_upgrade\s*;/.test(text)) {
    fail('nginx: no Connection upgrade header for graphql-ws');
  }
  if (!/proxy_http_version\s+1\.1\s*;/.test(text)) fail('nginx: WebSockets need proxy_http_version 1.1');
  if (/location[^{]*\/(metrics|healthz|readyz)/.test(text)) fail('nginx: exposes /metrics, /healthz or /readyz');
  if (!/return\s+404/.test(nginxBlock(conf, /location\s+\/\s*\{/) ?? '')) fail('nginx: other paths are not 404');
  return problems;
}

describe('docker-compose.yml', () => {
  test('meets the deployment requirements', () => {
    expect(agoraServices(compose)).toEqual(['agora-1', 'agora-2']);
    expect(composeProblems(compose, nginxConf)).toEqual([]);
  });

  const breakages: [string, (c: any) => void, (conf: string) => string, RegExp][] = [
    [
      'a third, different instance',
      (c) => (c.services['agora-3'] = { build: { context: '.' } }),
      (x) => x,
      /expected 2/,
    ],
    ['another image', (c) => (c.services['agora-2'].image = 'agora:other'), (x) => x, /image agora:other differs/],
    ['an unknown variable', (c) => (c.services['agora-1'].environment.JWT_SECRETS = 'x'), (x) => x, /JWT_SECRETS/],
    [
      'an inline secret',
      (c) => (c.services['agora-1'].environment.JWT_SECRET = 'x'),
      (x) => x,
      /JWT_SECRET is a secret/,
    ],
    ['no wait for Postgres', (c) => delete c.services['agora-2'].depends_on.postgres, (x) => x, /healthy postgres/],
    ['an instance published', (c) => (c.services['agora-1'].ports = ['4000:4000']), (x) => x, /publishes ports/],
    ['a short stop grace', (c) => (c.services['agora-1'].stop_grace_period = '5s'), (x) => x, /stop_grace_period/],
    ['a balancer not waiting', (c) => delete c.services.lb.depends_on['agora-2'], (x) => x, /healthy agora-2/],
    ['POSTs retried', (c) => c, (x) => x.replace('http_504;', 'http_504 non_idempotent;'), /re-sends POSTs/],
    ['an instance missing upstream', (c) => c, (x) => x.replace(/server agora-2:4000[^;]*;/, ''), /upstream lists/],
    ['no WebSocket upgrade', (c) => c, (x) => x.replace(/proxy_set_header Upgrade[^;]*;/, ''), /Upgrade header/],
    ['metrics exposed', (c) => c, (x) => x.replace('location / {', 'location /metrics {}\n location / {'), /metrics/],
  ];
  test.each(breakages)('catches: %s', (_, breakCompose, breakConf, expected) => {
    const broken = structuredClone(compose);
    breakCompose(broken);
    expect(composeProblems(broken, breakConf(nginxConf)).join('\n')).toMatch(expected);
  });

  test('production refuses the placeholders of the env file template', () => {
    const env = envOf(compose.services['agora-1']);
    const template = parseEnvFile(readRepoFile('deploy/secrets/agora.env.example'));
    expect(() => loadConfig({ ...env, ...template })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, ...template })).toThrow(/JWT_SECRET: looks like a placeholder/);
    expect(() => loadConfig({ ...env, ...template })).toThrow(/PAYMENT_WEBHOOK_SECRET: looks like a placeholder/);
    const real = { ...template, JWT_SECRET: generatedSecret(), PAYMENT_WEBHOOK_SECRET: generatedSecret() };
    expect(loadConfig({ ...env, ...real }).NODE_ENV).toBe('production');
  });

  describe('deploy/generate-secrets.sh', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'agora-secrets-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(path.join(dir, 'deploy/secrets'), { recursive: true });
    copyFileSync(repoPath('deploy/generate-secrets.sh'), path.join(dir, 'deploy/generate-secrets.sh'));
    const run = (...args: string[]) =>
      execFileSync('sh', [path.join(dir, 'deploy/generate-secrets.sh'), ...args], { stdio: 'pipe' });
    const read = (name: string) => parseEnvFile(readFileSync(path.join(dir, 'deploy/secrets', name), 'utf8'));

    test('writes the env files compose reads, with values production accepts', () => {
      run();
      const agora = read('agora.env');
      const postgres = read('postgres.env');
      const files = envFilesOf(compose.services['agora-1']).concat(envFilesOf(compose.services.postgres));
      expect(files.sort()).toEqual(['deploy/secrets/agora.env', 'deploy/secrets/postgres.env']);
      for (const [name, values] of [
        ['agora.env', agora],
        ['postgres.env', postgres],
      ] as const) {
        const template = parseEnvFile(readRepoFile('deploy/secrets', `${name}.example`));
        expect(Object.keys(values).sort()).toEqual(Object.keys(template).sort());
      }
      const database = new URL(agora.DATABASE_URL!);
      expect(decodeURIComponent(database.password)).toBe(postgres.POSTGRES_PASSWORD);
      expect(database.hostname).toBe('postgres');
      expect(database.username).toBe(compose.services.postgres.environment.POSTGRES_USER);
      expect(database.pathname).toBe(`/${compose.services.postgres.environment.POSTGRES_DB}`);
      const config = loadConfig({ ...envOf(compose.services['agora-1']), ...agora });
      expect(config.JWT_SECRET).not.toBe(config.PAYMENT_WEBHOOK_SECRET);
    });

    test('never overwrites secrets without --force', () => {
      const before = read('agora.env');
      expect(() => run()).toThrow();
      expect(read('agora.env')).toEqual(before);
      run('--force');
      expect(read('agora.env').JWT_SECRET).not.toBe(before.JWT_SECRET);
    });
  });
});
