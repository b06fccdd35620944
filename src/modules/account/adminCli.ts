// npm run admin:create -- --email ada@example.com [--first-name Ada] [--last-name Lovelace]
// Creates an admin without a password and prints a single-use token to set one with the passwordReset mutation.
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config.js';
import { openDatabase } from '../../db/database.js';
import { createLogger } from '../../logger.js';
import { FirstAdminError, inviteAdmin } from './firstAdmin.js';

const { values } = parseArgs({
  options: { email: { type: 'string' }, 'first-name': { type: 'string' }, 'last-name': { type: 'string' } },
});
if (!values.email) {
  console.error('usage: npm run admin:create -- --email <email> [--first-name <name>] [--last-name <name>]');
  process.exit(64);
}
const config = loadConfig();
// One-off jobs may run long statements; the API's statement_timeout is for requests.
const database = await openDatabase({ ...config, STATEMENT_TIMEOUT_MS: 0 }, createLogger({ LOG_LEVEL: 'warn' }));
try {
  const token = await inviteAdmin(database.prisma, {
    email: values.email,
    firstName: values['first-name'] ?? 'Admin',
    lastName: values['last-name'] ?? 'Agora',
  });
  console.log(`Admin ${values.email.trim().toLowerCase()} created. Set its password within 72 hours with:\n`);
  console.log(
    `  mutation { passwordReset(input: { token: "${token}", newPassword: "..." }) { success userErrors { code message } } }\n`,
  );
} catch (error) {
  if (!(error instanceof FirstAdminError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
} finally {
  await database.close();
}
