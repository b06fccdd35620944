// How the server is deployed: HTTPS with its own certificate (and HSTS), and a production configuration that refuses
// to start with secrets that look like placeholders.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { TEST_SECRET, TEST_WEBHOOK_SECRET, type TestServer } from '../support/testServer.js';
import { startProductionServer } from './support.js';

let dir: string;
let certificate: Buffer;
let server: TestServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'agora-tls-'));
  const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
  execFileSync(
    '/usr/bin/openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1'].concat([
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]),
    { stdio: 'ignore' },
  );
  certificate = readFileSync(cert);
  server = await startProductionServer({ TLS_CERT_FILE: cert, TLS_KEY_FILE: key });
});
afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** POSTs `{ __typename }` over HTTPS, trusting `ca` when given (and the system's CAs otherwise). */
function postOverHttps(url: string, ca?: Buffer): Promise<HttpsAnswer> {
  const payload = JSON.stringify({ query: '{ __typename }' });
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: 'POST',
        agent: false,
        ...(ca && { ca }),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode!,
            headers: response.headers,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

describe('HTTPS (TLS_CERT_FILE and TLS_KEY_FILE)', () => {
  it('serves GraphQL over TLS with its certificate, and tells browsers to stay on HTTPS', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const res = await postOverHttps(server.url, certificate);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ __typename: 'Query' });
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it('presents the configured certificate, which a client that does not trust it refuses', async () => {
    await expect(postOverHttps(server.url)).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });

  it('drops a plain-HTTP request to its port without answering it', async () => {
    const plain = server.url.replace(/^https:/, 'http:');
    const request = fetch(plain, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    await expect(request).rejects.toThrow(TypeError);
  });
});

describe('production secrets', () => {
  const production = (secrets: Record<string, string>) => ({
    NODE_ENV: 'production',
    JWT_SECRET: TEST_SECRET,
    PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    ...secrets,
  });

  it.each([
    ['JWT_SECRET', 'change-me-change-me-change-me-change-me'],
    ['JWT_SECRET', 'changeme0123456789ABCDEFGHIJKLMNOPQRSTUV'],
    ['JWT_SECRET', 'my-super-secret-jwt-key-for-production-1'],
    ['JWT_SECRET', 'password-password-password-password-1234'],
    ['JWT_SECRET', 'example-0123456789abcdefghijklmnopqrstuv'],
    ['JWT_SECRET', 'a'.repeat(48)],
    ['JWT_SECRET', '0123456789'.repeat(4)],
    ['PAYMENT_WEBHOOK_SECRET', 'placeholder-webhook-0123456789abcdefghij'],
    ['PAYMENT_WEBHOOK_SECRET', 'ab'.repeat(20)],
  ])('refuses to start when %s is %j, without repeating it', (variable, value) => {
    const load = () => loadConfig(production({ [variable]: value }));
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new RegExp(`^Invalid configuration:\\n  ${variable}: `));
    expect(load).not.toThrow(value);
    // the same value is accepted outside production, where nothing real is at stake
    expect(() => loadConfig({ ...production({ [variable]: value }), NODE_ENV: 'development' })).not.toThrow();
  });

  it.each(['JWT_SECRET', 'PAYMENT_WEBHOOK_SECRET'])('refuses to start without %s', (variable) => {
    expect(() => loadConfig(production({ [variable]: '' }))).toThrow(
      new RegExp(`^Invalid configuration:\\n  ${variable}: required in production`),
    );
  });

  it('starts with generated secrets', () => {
    expect(() => loadConfig(production({}))).not.toThrow();
  });
});
