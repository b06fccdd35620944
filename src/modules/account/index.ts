// What other modules may use of accounts: address and email validation, and who may see an account or address.
export { canViewAccount, canViewAddress } from './rules.js';
export { addressFields, email, MAX_EMAIL_LENGTH } from './validation.js';
