// Shoppers of the fault tests, driven over HTTP like a real client: carts built through the API, and a checkout
// that retries with the same idempotency key, every answer kept and classified; and the figures of a run.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { BERLIN } from '../../support/fixtures.js';
import type { Variant } from './database.js';
import { CLIENT_TIMEOUT_MS, sleep, type Instance } from './processes.js';

// ---------------------------------------------------------------------------------------------------------------
// HTTP, as a client sees it

export type Reply = { ok: true; status: number; body: any; ms: number } | { ok: false; error: string; ms: number };

/** One POST on a connection of its own (no keep-alive: a dead instance cannot hold a pooled socket), given up after
 * `timeoutMs`. Never throws: a network failure is a reply too. */
export function post(
  url: string,
  body: unknown,
  { token, timeoutMs = CLIENT_TIMEOUT_MS }: { token?: string; timeoutMs?: number } = {},
): Promise<Reply> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (reply: Reply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(reply);
    };
    const request = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('error', (error: NodeJS.ErrnoException) =>
          finish({ ok: false, error: error.code ?? 'ERROR', ms: ms() }),
        );
        response.on('end', () => {
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            parsed = { unparsable: text.slice(0, 200) };
          }
          finish({ ok: true, status: response.statusCode ?? 0, body: parsed, ms: ms() });
        });
      },
    );
    const timer = setTimeout(() => {
      finish({ ok: false, error: 'CLIENT_TIMEOUT', ms: ms() });
      request.destroy();
    }, timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, error: error.code ?? error.message, ms: ms() }),
    );
    request.end(JSON.stringify(body));
  });
}

/** A GraphQL operation that must succeed (set-up steps): its data. */
export async function gql(
  instance: Instance,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<any> {
  const reply = await post(instance.url, { query, variables }, { token });
  if (!reply.ok || reply.status !== 200 || reply.body?.errors) {
    throw new Error(`${instance.name}: ${query.slice(0, 60)}… failed: ${JSON.stringify(reply).slice(0, 500)}`);
  }
  return reply.body.data;
}

/** Runs `tasks` with at most `limit` at a time; the results in order. */
export async function inBatches<T>(tasks: (() => Promise<T>)[], limit = 16): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

// ---------------------------------------------------------------------------------------------------------------
// Shoppers

export interface Shopper {
  n: number;
  email: string;
  /** The cart's global ID. */
  cartId: string;
  /** The checkout's idempotency key: one per shopper, sent again on every retry. */
  key: string;
  /** A customer's access token (guests have none). */
  token?: string;
  /** Index of the instance the shopper talks to first. */
  home: number;
  answers: Answer[];
  /** The definite answer the shopper ended with; undefined when it gave up. */
  final?: Answer;
}

export type AnswerKind =
  | 'paid' // an order with financialStatus AUTHORIZED
  | 'order' // an order in another financial state (detail says which)
  | 'refused' // userErrors (detail is the code)
  | 'still-running' // CONFLICT: the checkout of this key is still running
  | 'network' // no answer: refused, reset, or the client's timeout (detail is the error code)
  | 'http' // an HTTP status without a GraphQL error (detail is the status)
  | 'graphql-error'; // a GraphQL error (detail is extensions.code)

export interface Answer {
  kind: AnswerKind;
  detail: string;
  message?: string;
  /** Which instance was asked, and how long the answer (or the failure) took. */
  instance: string;
  ms: number;
  /** When the request was sent, in ms since the load started. */
  at: number;
  order?: { id: string; number: number | null; status: string; financialStatus: string; email: string };
  status?: number;
}

export const ORDER_FIELDS =
  'id number status financialStatus fulfillmentStatus email total { amount } lines { quantity }';
export const CHECKOUT = `mutation ($input: CheckoutCompleteInput!) {
  checkoutComplete(input: $input) { order { ${ORDER_FIELDS} } userErrors { field code message } } }`;

/** GraphQL error codes after which a retry with the same key is what a client should do. */
const RETRYABLE_ERRORS = new Set(['INTERNAL_SERVER_ERROR', 'OPERATION_TIMEOUT', 'SERVICE_UNAVAILABLE', 'THROTTLED']);
/** A transient processor failure is worth a few retries under the same key, not 30 s of them. */
const PAYMENT_FAILED_RETRIES = 3;

export function classify(reply: Reply, instance: string, at: number): Answer {
  const base = { instance, ms: reply.ms, at };
  if (!reply.ok) return { ...base, kind: 'network', detail: reply.error };
  const body = reply.body as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } | null;
  if (body?.errors?.length) {
    return {
      ...base,
      kind: 'graphql-error',
      detail: body.errors[0]!.extensions?.code ?? 'UNKNOWN',
      message: body.errors[0]!.message,
      status: reply.status,
    };
  }
  const payload = body?.data?.checkoutComplete;
  if (reply.status !== 200 || !payload)
    return { ...base, kind: 'http', detail: String(reply.status), status: reply.status };
  if (payload.order) {
    const order = payload.order;
    return order.financialStatus === 'AUTHORIZED'
      ? { ...base, kind: 'paid', detail: 'AUTHORIZED', order }
      : { ...base, kind: 'order', detail: String(order.financialStatus ?? order.status), order };
  }
  const error = payload.userErrors?.[0] ?? { code: 'NONE', message: 'no order and no userErrors' };
  if (error.code === 'CONFLICT' && /still running/i.test(error.message)) {
    return { ...base, kind: 'still-running', detail: 'CONFLICT', message: error.message };
  }
  return { ...base, kind: 'refused', detail: error.code, message: error.message };
}

function retryable(answer: Answer, answers: Answer[]): boolean {
  switch (answer.kind) {
    case 'network':
    case 'still-running':
      return true;
    case 'http':
      return Number(answer.detail) >= 500 || answer.detail === '429';
    case 'graphql-error':
      return RETRYABLE_ERRORS.has(answer.detail) || (answer.status ?? 200) >= 500;
    case 'refused':
      return (
        answer.detail === 'PAYMENT_FAILED' &&
        answers.filter((a) => a.kind === 'refused' && a.detail === 'PAYMENT_FAILED').length <= PAYMENT_FAILED_RETRIES
      );
    default:
      return false;
  }
}

/** One line per answer, for failure messages: "A network ECONNRESET 3431 ms @0 → B paid AUTHORIZED 235 ms @3500". */
export const answersOf = (shopper: Shopper) =>
  `shopper ${shopper.n}: ` +
  shopper.answers.map((a) => `${a.instance} ${a.kind} ${a.detail} ${a.ms} ms @${a.at}`).join(' → ');

export const isDefinite = (answer: Answer | undefined) =>
  answer !== undefined && (answer.kind === 'paid' || answer.kind === 'order' || answer.kind === 'refused');

/** Signs a new customer up; the access token. */
export async function signUp(instance: Instance, email: string): Promise<string> {
  const data = await gql(
    instance,
    `mutation ($input: CustomerSignUpInput!) {
      customerSignUp(input: $input) { tokens { accessToken } userErrors { field code message } } }`,
    { input: { email, password: 'a long and unusual passphrase', firstName: 'Ada', lastName: 'Faults' } },
  );
  if (data.customerSignUp.userErrors.length) throw new Error(JSON.stringify(data.customerSignUp.userErrors));
  return data.customerSignUp.tokens.accessToken as string;
}

const USER_ERRORS = 'userErrors { field code message }';

/** A cart ready to check out, built through the API as a shop's front end would: created, a line added, the buyer's
 * email and a German address set, the Standard shipping method chosen. Its global ID. */
export async function buildCart(
  instance: Instance,
  variant: Variant,
  { email, token, quantity = 1 }: { email: string; token?: string; quantity?: number },
): Promise<string> {
  const step = async (name: string, type: string, input: Record<string, unknown>, extra = '') => {
    const data = await gql(
      instance,
      `mutation ($input: ${type}!) { ${name}(input: $input) { cart { id ${extra} } ${USER_ERRORS} } }`,
      { input },
      token,
    );
    if (data[name].userErrors.length) throw new Error(`${name}: ${JSON.stringify(data[name].userErrors)}`);
    return data[name].cart;
  };
  const { id: cartId } = await step('cartCreate', 'CartCreateInput', token ? {} : { email });
  await step('cartLinesAdd', 'CartLinesAddInput', { cartId, lines: [{ variantId: variant.gid, quantity }] });
  const cart = await step(
    'cartBuyerIdentityUpdate',
    'CartBuyerIdentityUpdateInput',
    { cartId, email, shippingAddress: BERLIN },
    'availableShippingMethods { id name }',
  );
  const standard = (cart.availableShippingMethods as { id: string; name: string }[]).find((m) => m.name === 'Standard');
  if (!standard) throw new Error(`no Standard shipping method for the cart: ${JSON.stringify(cart)}`);
  await step('cartShippingMethodSelect', 'CartShippingMethodSelectInput', { cartId, shippingMethodId: standard.id });
  return cartId as string;
}

/** `count` shoppers, each with a cart of one unit of `variant`; shopper i starts on instance i % instances. Guests,
 * or customers signed up first (`customers`). Built `parallel` at a time, spread over the instances. */
export async function prepareShoppers(
  instances: Instance[],
  variant: Variant,
  count: number,
  {
    customers = false,
    parallel = 32,
    label = 'shopper',
  }: { customers?: boolean; parallel?: number; label?: string } = {},
): Promise<Shopper[]> {
  return inBatches(
    Array.from({ length: count }, (_, n) => async (): Promise<Shopper> => {
      const instance = instances[n % instances.length]!;
      const email = `${label}-${n}-${randomUUID().slice(0, 8)}@example.test`;
      const token = customers ? await signUp(instance, email) : undefined;
      const cartId = await buildCart(instance, variant, { email, token });
      return { n, email, cartId, key: `faults-${randomUUID()}`, token, home: n % instances.length, answers: [] };
    }),
    parallel,
  );
}

export interface LoadClock {
  /** ms since the load started; answers are stamped with it. */
  now(): number;
}
export const startClock = (): LoadClock => {
  const started = performance.now();
  return { now: () => Math.round(performance.now() - started) };
};

/**
 * One shopper's checkout, as a careful client does it: `checkoutComplete` with the shopper's key; on a network
 * error, a 5xx, a retryable GraphQL error or "still running", the same request again after a short backoff, on the
 * same instance, or on the next one when its own did not answer at all; at most `deadlineMs` in all. Every answer is
 * kept on the shopper.
 */
export async function checkOut(
  shopper: Shopper,
  instances: Instance[],
  {
    clock = startClock(),
    deadlineMs = 30_000,
    token = 'tok_visa',
    document = CHECKOUT,
    maxAttempts = Infinity,
    onAnswer,
  }: {
    clock?: LoadClock;
    deadlineMs?: number;
    /** Stop after this many requests even when the answer asks for a retry (to look at a first answer alone). */
    maxAttempts?: number;
    /** The sandbox's card token. */
    token?: string;
    /** The checkoutComplete document (its selection may vary; the answer is read from `checkoutComplete`). */
    document?: string;
    onAnswer?: (s: Shopper, a: Answer) => void;
  } = {},
): Promise<Shopper> {
  const started = Date.now();
  let target = shopper.home;
  const body = {
    query: document,
    variables: {
      input: { cartId: shopper.cartId, payment: { provider: 'sandbox', token }, idempotencyKey: shopper.key },
    },
  };
  for (let attempt = 0; ; attempt++) {
    const instance = instances[target]!;
    const at = clock.now();
    const answer = classify(await post(instance.url, body, { token: shopper.token }), instance.name, at);
    shopper.answers.push(answer);
    onAnswer?.(shopper, answer);
    if (!retryable(answer, shopper.answers)) {
      shopper.final = answer;
      return shopper;
    }
    if (Date.now() - started > deadlineMs || attempt + 1 >= maxAttempts) return shopper;
    // A client that got no answer at all tries the other instance (the balancer would stop sending it there).
    if (answer.kind === 'network') target = (target + 1) % instances.length;
    await sleep(Math.min(100 * 2 ** Math.min(attempt, 4), 1_000) * (0.5 + Math.random() / 2));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Figures

export const tally = (values: string[]) =>
  Object.fromEntries([...new Set(values)].sort().map((value) => [value, values.filter((v) => v === value).length]));

/** What the shoppers were told, in figures. */
export function figuresOf(shoppers: Shopper[]) {
  const answers = shoppers.flatMap((s) => s.answers);
  const answered = answers.filter((a) => a.kind !== 'network');
  return {
    shoppers: shoppers.length,
    paid: shoppers.filter((s) => s.final?.kind === 'paid').length,
    refused: tally(shoppers.filter((s) => s.final?.kind === 'refused').map((s) => s.final!.detail)),
    otherOrders: tally(shoppers.filter((s) => s.final?.kind === 'order').map((s) => s.final!.detail)),
    gaveUp: shoppers.filter((s) => !s.final).length,
    requests: answers.length,
    retries: answers.length - shoppers.length,
    stillRunning: answers.filter((a) => a.kind === 'still-running').length,
    network: tally(answers.filter((a) => a.kind === 'network').map((a) => a.detail)),
    graphqlErrors: tally(answers.filter((a) => a.kind === 'graphql-error').map((a) => a.detail)),
    http: tally(answers.filter((a) => a.kind === 'http').map((a) => a.detail)),
    maxAnswerMs: Math.max(0, ...answered.map((a) => a.ms)),
  };
}

/** Prints a compact table of the run, for the closing note. */
export function report(title: string, rows: Record<string, unknown>) {
  const format = (value: unknown): string =>
    Array.isArray(value)
      ? value.map(format).join('; ') || '-'
      : typeof value === 'object' && value !== null
        ? Object.entries(value)
            .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`)
            .join(', ') || '-'
        : String(value);
  const width = Math.max(...Object.keys(rows).map((key) => key.length));
  console.log(
    [`── ${title}`, ...Object.entries(rows).map(([key, value]) => `  ${key.padEnd(width)}  ${format(value)}`)].join(
      '\n',
    ),
  );
}
