// The payloads the account mutations answer refusals with, as clients see them.

export const INVALID_CREDENTIALS = {
  account: null,
  tokens: null,
  userErrors: [{ field: null, code: 'INVALID_CREDENTIALS', message: 'The email or password is incorrect.' }],
};

export const REFRESH_REFUSED = {
  tokens: null,
  userErrors: [{ field: ['input', 'refreshToken'], code: 'INVALID_TOKEN', message: 'Sign in again.' }],
};

export const RESET_REFUSED = {
  success: false,
  userErrors: [{ field: ['input', 'token'], code: 'INVALID_TOKEN', message: 'This link is invalid or has expired.' }],
};
