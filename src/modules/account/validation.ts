// Input rules for accounts and addresses.
import { z } from 'zod';

const name = (what: string, max = 100) =>
  z.string().trim().min(1, `${what} cannot be blank.`).max(max, `${what} must be at most ${max} characters.`);

const optionalText = (what: string, max: number) =>
  z
    .string()
    .trim()
    .max(max, `${what} must be at most ${max} characters.`)
    .nullish()
    .transform((value) => value || null);

/** RFC 5321's limit on a path, which bounds every email the API takes, before it is used for anything. */
export const MAX_EMAIL_LENGTH = 254;
const TOO_LONG = `Email must be at most ${MAX_EMAIL_LENGTH} characters.`;

/** Emails are compared and stored in lower case. */
export const email = z
  .string()
  .trim()
  .max(MAX_EMAIL_LENGTH, TOO_LONG)
  .pipe(z.email('Enter a valid email address.'))
  .transform((value) => value.toLowerCase());

export const normalizeEmail = (value: string): string => value.trim().toLowerCase();

/** An email to look up (sign-in, reset): any text up to the limit, normalised; no account has anything else. */
export const emailInput = z
  .string()
  .trim()
  .max(MAX_EMAIL_LENGTH, TOO_LONG)
  .transform((value) => value.toLowerCase());

export const signUpFields = z.object({ email, firstName: name('First name'), lastName: name('Last name') });

export const emailChange = z.object({ newEmail: email });

export const accountChanges = z.object({
  firstName: name('First name')
    .nullish()
    .transform((v) => v ?? undefined),
  lastName: name('Last name')
    .nullish()
    .transform((v) => v ?? undefined),
});

export const staffFields = signUpFields.extend({
  role: z.enum(['STAFF', 'ADMIN'], 'Staff accounts have the role STAFF or ADMIN.'),
});

// Node's ICU data names every ISO 3166-1 region; for an unassigned code it echoes the code or says "Unknown Region".
const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });
const isCountry = (code: string) =>
  /^[A-Z]{2}$/.test(code) && !['Unknown Region', code].includes(regionNames.of(code)!);

export const addressFields = z.object({
  firstName: name('First name'),
  lastName: name('Last name'),
  company: optionalText('Company', 100),
  line1: name('Address line 1', 200),
  line2: optionalText('Address line 2', 200),
  city: name('City'),
  province: optionalText('Province', 100),
  postalCode: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9 -]{0,18}[A-Za-z0-9]?$/, 'Enter a valid postal code.')
    .transform((value) => value.toUpperCase()),
  countryCode: z
    .string()
    .trim()
    .transform((value) => value.toUpperCase())
    .refine(isCountry, 'Enter an ISO 3166-1 alpha-2 country code.'),
  phone: z
    .string()
    .trim()
    .regex(/^\+[1-9]\d{6,14}$/, 'Enter the phone number in international format, such as +4930123456.')
    .nullish()
    .transform((value) => value ?? null),
});
