// Opaque single-purpose tokens (refresh, password reset): 256 random bits for the client, only a SHA-256 digest
// in the database, so a database leak yields no usable token.
import { createHash, randomBytes } from 'node:crypto';

export const newOpaqueToken = (): string => randomBytes(32).toString('base64url');

export const digestOf = (token: string): string => createHash('sha256').update(token).digest('base64url');
