import { describe, expect, it } from 'vitest';
import {
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  passwordProblem,
  verifyPassword,
} from './passwords.js';

const email = 'jane.doe@example.com';

describe('passwordProblem', () => {
  it.each([
    ['a'.repeat(MIN_PASSWORD_LENGTH - 1), 'PASSWORD_TOO_SHORT'],
    ['', 'PASSWORD_TOO_SHORT'],
    // counted in characters, not UTF-16 units: nine emoji are 18 units but still too short
    ['🔑'.repeat(MIN_PASSWORD_LENGTH - 1), 'PASSWORD_TOO_SHORT'],
    ['x'.repeat(MAX_PASSWORD_LENGTH + 1), 'PASSWORD_TOO_LONG'],
    ['Password123', 'PASSWORD_TOO_COMMON'],
    ['PASSWORD123', 'PASSWORD_TOO_COMMON'],
    ['qwertyuiop', 'PASSWORD_TOO_COMMON'],
    ['my jane.doe@example.com secret', 'PASSWORD_CONTAINS_EMAIL'],
    ['my JANE.DOE@EXAMPLE.COM secret', 'PASSWORD_CONTAINS_EMAIL'],
    ['jane.doe-rules-2026', 'PASSWORD_CONTAINS_EMAIL'],
    ['xxJane.Doexx and more', 'PASSWORD_CONTAINS_EMAIL'],
  ])('flags %j as %s', (password, code) => {
    expect(passwordProblem(password, email)).toEqual({ code, message: expect.any(String) as string });
  });

  it('ignores a local part shorter than 4 characters', () => {
    expect(passwordProblem('bob is my uncle, truly', 'bob@example.com')).toBeNull();
    expect(passwordProblem('bobby is my uncle, truly', 'bobb@example.com')?.code).toBe('PASSWORD_CONTAINS_EMAIL');
  });

  it.each([
    'correct horse battery staple',
    'a'.repeat(MIN_PASSWORD_LENGTH),
    'x'.repeat(MAX_PASSWORD_LENGTH),
    'Пароль-для-Джейн-2026',
  ])('accepts %j', (password) => {
    expect(passwordProblem(password, email)).toBeNull();
  });

  it('checks length before the other rules', () => {
    expect(passwordProblem('jane.doe', email)?.code).toBe('PASSWORD_TOO_SHORT');
  });

  it('explains each problem', () => {
    expect(passwordProblem('short', email)?.message).toMatch(/at least 10 characters/);
    expect(passwordProblem('x'.repeat(300), email)?.message).toMatch(/at most 256 characters/);
  });
});

describe('hashPassword and verifyPassword', () => {
  const password = 'correct horse battery staple';

  it('hash with Argon2id at 19 MiB, 2 passes, 1 lane, salted', async () => {
    const hash = await hashPassword(password);
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22,}\$[A-Za-z0-9+/]{43,}$/);
    expect(await hashPassword(password)).not.toBe(hash);
  });

  it('verify the right password and only it', async () => {
    const hash = await hashPassword(password);
    expect(await verifyPassword(hash, password)).toBe(true);
    expect(await verifyPassword(hash, 'correct horse battery stapler')).toBe(false);
    expect(await verifyPassword(hash, password.toUpperCase())).toBe(false);
    expect(await verifyPassword(hash, '')).toBe(false);
  });

  it('answer false without a hash, or with a malformed one', async () => {
    expect(await verifyPassword(null, password)).toBe(false);
    expect(await verifyPassword(undefined, password)).toBe(false);
    expect(await verifyPassword('not a hash', password)).toBe(false);
    // the dummy hash's own password must not sign in to an account without a hash
    expect(await verifyPassword(null, 'agora-timing-equalizer')).toBe(false);
  });

  it('take about as long without a hash as with a wrong password', async () => {
    const hash = await hashPassword(password);
    const time = async (run: () => Promise<unknown>) => {
      const start = performance.now();
      await run();
      return performance.now() - start;
    };
    const median = (times: number[]) => times.sort((a, b) => a - b)[times.length >> 1]!;
    await verifyPassword(null, 'warm-up'); // the dummy hash is computed on first use
    // Taken in turns, so that a busy machine slows both alike; answering without the work would be 100 times faster.
    const unknownAccount: number[] = [];
    const wrongPassword: number[] = [];
    for (let i = 0; i < 15; i++) {
      unknownAccount.push(await time(() => verifyPassword(null, 'wrong password')));
      wrongPassword.push(await time(() => verifyPassword(hash, 'wrong password')));
    }
    const [a, b] = [median(unknownAccount), median(wrongPassword)];
    expect(
      Math.max(a, b) / Math.min(a, b),
      `no hash ${a.toFixed(1)} ms, wrong password ${b.toFixed(1)} ms`,
    ).toBeLessThan(3);
  });
});
