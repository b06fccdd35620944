// Argon2id password hashing with OWASP's recommended minimum (19 MiB, 2 iterations, 1 lane), and the policy a new
// password must meet.
import { hash, verify } from '@node-rs/argon2';
import { COMMON_PASSWORDS } from './commonPasswords.js';

// algorithm 2 is Algorithm.Argon2id, a const enum that isolated modules cannot import
const ARGON2ID = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

export const hashPassword = (password: string): Promise<string> => hash(password, ARGON2ID);

// Verified against when an email is unknown, so that both failures cost one Argon2 verification.
const dummyHash = hashPassword('agora-timing-equalizer');

/** Whether `password` matches `passwordHash`; with no hash, spends the same time and answers false. */
export async function verifyPassword(passwordHash: string | null | undefined, password: string): Promise<boolean> {
  try {
    const matches = await verify(passwordHash || (await dummyHash), password);
    return matches && Boolean(passwordHash);
  } catch {
    return false;
  }
}

export type PasswordProblem =
  'PASSWORD_TOO_SHORT' | 'PASSWORD_TOO_LONG' | 'PASSWORD_TOO_COMMON' | 'PASSWORD_CONTAINS_EMAIL';

const PROBLEM_MESSAGES: Record<PasswordProblem, string> = {
  PASSWORD_TOO_SHORT: `Use at least ${MIN_PASSWORD_LENGTH} characters.`,
  PASSWORD_TOO_LONG: `Use at most ${MAX_PASSWORD_LENGTH} characters.`,
  PASSWORD_TOO_COMMON: 'This password is too common; choose one that is harder to guess.',
  PASSWORD_CONTAINS_EMAIL: 'The password must not contain your email address.',
};

/** The first rule a new password breaks, with a message for the user, or null when it is acceptable. */
export function passwordProblem(password: string, email: string): { code: PasswordProblem; message: string } | null {
  const length = [...password].length;
  const lower = password.toLowerCase();
  const localPart = email.toLowerCase().split('@')[0] ?? '';
  const code: PasswordProblem | null =
    length < MIN_PASSWORD_LENGTH
      ? 'PASSWORD_TOO_SHORT'
      : length > MAX_PASSWORD_LENGTH
        ? 'PASSWORD_TOO_LONG'
        : COMMON_PASSWORDS.has(lower)
          ? 'PASSWORD_TOO_COMMON'
          : (email !== '' && lower.includes(email.toLowerCase())) ||
              (localPart.length >= 4 && lower.includes(localPart))
            ? 'PASSWORD_CONTAINS_EMAIL'
            : null;
  return code && { code, message: PROBLEM_MESSAGES[code] };
}
