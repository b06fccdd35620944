// The WebSocket transport's own rules, tried as a hostile client would: only subscriptions unless configured,
// origins checked, sockets per client and subscriptions per socket capped, idle anonymous sockets closed, and a
// signed-in socket closed once its session is revoked (logOut everywhere) or its access token expires. Operations
// run over it are audited and evict the response cache like HTTP ones.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { commerce } from '../support/commerce.js';
import type { TestServer } from '../support/testServer.js';
import { sleep, startProductionServer, uuid, withoutQueries } from './support.js';
import { expectRefusedOutcome, overPost, overWebSocket, wsUrl } from './transports.js';

let server: TestServer;
let open: TestServer;

beforeAll(async () => {
  [server, open] = await Promise.all([
    startProductionServer({
      CORS_ORIGINS: 'https://shop.example',
      WEBSOCKET_MAX_SOCKETS_PER_CLIENT: '3',
      WEBSOCKET_MAX_SUBSCRIPTIONS_PER_SOCKET: '2',
      WEBSOCKET_IDLE_TIMEOUT_MS: '400',
      WEBSOCKET_SESSION_CHECK_MS: '100',
    }),
    startProductionServer({ WEBSOCKET_OPERATIONS: 'all' }),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.close(), open?.close()]);
});

/** Opens a raw socket; resolves with 'open' or the HTTP status the upgrade was refused with. */
function upgrade(
  target: TestServer,
  headers: Record<string, string> = {},
): Promise<{ socket: WebSocket; status: number | 'open' }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(wsUrl(target), 'graphql-transport-ws', { headers });
    socket.once('open', () => resolve({ socket, status: 'open' }));
    socket.once('unexpected-response', (_req, res) => resolve({ socket, status: res.statusCode ?? 0 }));
    socket.once('error', () => undefined);
  });
}

const closeOf = (socket: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );

/** A raw graphql-transport-ws socket, acknowledged, as `token` when given. */
async function signedSocket(target: TestServer, token?: string) {
  const { socket, status } = await upgrade(target);
  expect(status).toBe('open');
  const messages: any[] = [];
  socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8'))));
  socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} }));
  for (let i = 0; i < 100 && !messages.some((m) => m.type === 'connection_ack'); i++) await sleep(10);
  expect(messages.map((m) => m.type)).toContain('connection_ack');
  return { socket, messages };
}

const SUBSCRIPTION = 'subscription ($id: ID!) { orderStatusChanged(orderId: $id) { id status } }';

// First, before any test writes an event: every relay in this process makes a pass after any server's outbox
// write, and its SQL would be counted below.
describe('a hostile subscription', () => {
  const chain = (levels: number) =>
    `subscription ($id: ID!) { orderStatusChanged(orderId: $id) { ...F0 } } ${Array.from(
      { length: levels },
      (_, i) => `fragment F${i} on Order { ${i === levels - 1 ? 'id' : `...F${i + 1}`} }`,
    ).join(' ')}`;
  const order = { id: 'T3JkZXI6MQ==' };

  it.each([
    ['too deep through fragments', chain(15), order, 'DEPTH_LIMIT_EXCEEDED'],
    [
      'with too many aliases',
      `subscription { orderStatusChanged(orderId: "x") { ${Array.from({ length: 31 }, (_, i) => `a${i}: id`).join(' ')} } }`,
      {},
      'ALIAS_LIMIT_EXCEEDED',
    ],
    [
      'with too many directives',
      `subscription { orderStatusChanged(orderId: "x") { ${'id @include(if: true) '.repeat(51)}} }`,
      {},
      'DIRECTIVE_LIMIT_EXCEEDED',
    ],
    [
      'fishing for suggestions',
      'subscription { ordrStatusChanged(orderId: "x") { id } }',
      {},
      'GRAPHQL_VALIDATION_FAILED',
    ],
    ['with a NUL character in a variable', SUBSCRIPTION, { id: 'T3JkZXI6\u0000' }, 'BAD_USER_INPUT'],
  ])('%s is refused as over HTTP, before any SQL', async (_, query, variables, code) => {
    const outcome = await withoutQueries(open, () => overWebSocket(open, { query, variables }));
    expectRefusedOutcome(outcome, { status: 400, code });
    expect(outcome.text).not.toMatch(/did you mean/i);
  });
});

describe('a frame larger than MAX_BODY_BYTES', () => {
  it('closes the socket, and the server goes on serving', async () => {
    const { socket } = await signedSocket(open);
    const closed = closeOf(socket);
    socket.send(JSON.stringify({ id: 'big', type: 'subscribe', payload: { query: `# ${'x'.repeat(1_100_000)}` } }));
    expect((await closed).code).not.toBe(1000);
    const after = await overWebSocket(open, { query: '{ __typename }' });
    expect(after.data).toEqual({ __typename: 'Query' });
  });
});

describe('what runs over WebSocket', () => {
  it('refuses queries and mutations by default: they belong on HTTP', async () => {
    const outcome = await overWebSocket(server, { query: '{ __typename }' });
    expect(outcome.errors?.[0]?.extensions?.code, outcome.text).toBe('BAD_REQUEST');
    expect(outcome.errors?.[0]?.message).toMatch(/subscriptions only/);
  });

  it('refuses a subscription over HTTP', async () => {
    const outcome = await overPost(server, { query: SUBSCRIPTION, variables: { id: 'T3JkZXI6MQ==' } });
    expect(outcome.errors?.[0]?.extensions?.code, outcome.text).toBe('BAD_REQUEST');
    expect(outcome.errors?.[0]?.message).toMatch(/over WebSocket/);
  });
});

describe('the upgrade', () => {
  it.each([
    ['an origin on the CORS list', { origin: 'https://shop.example' }, 'open'],
    ['no origin (not a browser)', {}, 'open'],
    ['a foreign origin', { origin: 'https://evil.example' }, 403],
    ['a look-alike origin', { origin: 'https://shop.example.evil.example' }, 403],
  ])('from %s is %s', async (_, headers, expected) => {
    const { socket, status } = await upgrade(server, headers);
    expect(status).toBe(expected);
    socket.terminate();
  });

  it('is refused with 429 past the sockets one client may hold', async () => {
    const held = await Promise.all([upgrade(server), upgrade(server), upgrade(server)]);
    expect(held.map(({ status }) => status)).toEqual(['open', 'open', 'open']);
    expect((await upgrade(server)).status).toBe(429);
    held[0].socket.close();
    await sleep(100);
    const again = await upgrade(server);
    expect(again.status).toBe('open');
    for (const { socket } of [...held, again]) socket.terminate();
  });
});

describe('a socket', () => {
  it('runs at most the configured subscriptions at once', async () => {
    const token = await server.tokenFor('STAFF');
    const { socket, messages } = await signedSocket(server, token);
    for (const id of ['1', '2', '3']) {
      socket.send(
        JSON.stringify({ id, type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { id: 'T3JkZXI6MQ==' } } }),
      );
    }
    for (let i = 0; i < 100 && !messages.some((m) => m.id === '3'); i++) await sleep(10);
    const third = messages.find((m) => m.id === '3');
    expect(third).toMatchObject({
      type: 'error',
      payload: [{ extensions: { code: 'SUBSCRIPTION_LIMIT_EXCEEDED', maximum: 2 } }],
    });
    socket.terminate();
  });

  it('is closed when anonymous and idle, and kept when signed in', async () => {
    const anonymous = await signedSocket(server);
    const signedIn = await signedSocket(server, await server.tokenFor('CUSTOMER'));
    const closed = closeOf(anonymous.socket);
    expect((await closed).code).toBe(1000);
    expect(signedIn.socket.readyState).toBe(WebSocket.OPEN);
    signedIn.socket.terminate();
  });

  it('is refused at connection_init with an invalid token, without a stack trace', async () => {
    const { socket } = await upgrade(server);
    const closed = closeOf(socket);
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer not.a.token' } }));
    expect(await closed).toEqual({ code: 4403, reason: 'Forbidden' });
  });

  it('is closed with 4403 once its access token expires', async () => {
    // two seconds: exp is in whole seconds, so a one-second token may expire before the socket is acknowledged
    const token = await server.tokenFor('CUSTOMER', { expiresIn: 2 });
    const { socket } = await signedSocket(server, token);
    const { code, reason } = await closeOf(socket);
    expect(code).toBe(4403);
    expect(reason).toMatch(/expired/);
  });

  it('stops streaming a customer their order once they log out everywhere', async () => {
    const shop = commerce(server);
    const email = `ws-${randomUUID()}@example.test`;
    const signUp = await server.gql(
      `mutation ($input: CustomerSignUpInput!) { customerSignUp(input: $input) { tokens { accessToken refreshToken } userErrors { code } } }`,
      { input: { email, password: 'a long enough passphrase 9', firstName: 'Web', lastName: 'Socket' } },
    );
    const { accessToken, refreshToken } = signUp.data.customerSignUp.tokens;
    const order = await shop.placed(await shop.cart([[await shop.variant(), 1]], { as: accessToken }), {
      as: accessToken,
    });
    await server.runtime.relay.flush();

    const { socket, messages } = await signedSocket(server, accessToken);
    const closed = closeOf(socket);
    socket.send(
      JSON.stringify({ id: 'o', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { id: order.id } } }),
    );
    await sleep(150);
    const loggedOut = await server.gql(
      `mutation ($input: LogOutInput!) { logOut(input: $input) { endedSessionCount } }`,
      { input: { refreshToken, everywhere: true } },
    );
    expect(loggedOut.data.logOut.endedSessionCount).toBe(1);
    expect(await closed).toMatchObject({ code: 4403, reason: expect.stringMatching(/session has ended/) });

    const staff = await server.tokenFor('STAFF');
    await shop.done('orderFulfill', { orderId: order.id, carrier: 'DHL', trackingNumber: 'WS0001' }, staff);
    await server.runtime.relay.flush();
    await sleep(100);
    expect(messages.filter((m) => m.type === 'next')).toEqual([]);
  });
});

describe('operations over WebSocket (WEBSOCKET_OPERATIONS=all)', () => {
  it('audits a staff mutation as over HTTP', async () => {
    const staff = await open.tokenFor('STAFF');
    const outcome = await overWebSocket(
      open,
      {
        query: 'mutation Remove($input: ProductDeleteInput!) { productDelete(input: $input) { userErrors { code } } }',
        variables: { input: { id: uuid(999) } },
        operationName: 'Remove',
      },
      staff,
    );
    expect(outcome.text).toMatch(/productDelete/);
    const entries = await open.prisma.auditLogEntry.findMany({ where: { mutation: 'productDelete' } });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ operationName: 'Remove' });
  });

  it('evicts cached catalog answers after a staff edit', async () => {
    const shop = commerce(open);
    const variant = await shop.variant();
    const read = `{ product(slug: "${variant.sku.toLowerCase()}") { title } }`;
    const product = { title: variant.productTitle };
    expect((await open.gql(read)).data.product.title).toBe(product.title);
    expect((await open.gql(read)).data.product.title).toBe(product.title); // now from the cache
    const staff = await open.tokenFor('STAFF');
    const edit = await overWebSocket(
      open,
      {
        query:
          'mutation ($input: ProductUpdateInput!) { productUpdate(input: $input) { product { title } userErrors { code } } }',
        variables: { input: { id: variant.productGid, title: 'Renamed over a socket' } },
      },
      staff,
    );
    expect(edit.errors, edit.text).toBeUndefined();
    expect((await open.gql(read)).data.product.title).toBe('Renamed over a socket');
  });
});
