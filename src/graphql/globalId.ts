// Opaque global IDs: base64url("<Type>:<uuid>"). Clients treat them as strings; the server checks both parts.
import { badUserInput } from './errors.js';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What a GraphQL type's name can be: a well-formed ID of a type the API does not have names nothing, while anything
 * else (a NUL, say) is no ID at all. */
const TYPE_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

export const toGlobalId = (type: string, id: string): string => Buffer.from(`${type}:${id}`).toString('base64url');

/** The type and database ID inside a global ID, or null when it is not one of ours. */
export function parseGlobalId(globalId: string): { type: string; id: string } | null {
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  const separator = decoded.indexOf(':');
  const type = decoded.slice(0, separator);
  const id = decoded.slice(separator + 1);
  if (!TYPE_NAME.test(type) || !UUID.test(id) || toGlobalId(type, id) !== globalId) return null;
  return { type, id };
}

/** The database ID of a global ID of `type`, or null when the ID is malformed or of another type. */
export function databaseIdOf(globalId: string, type: string): string | null {
  const parsed = parseGlobalId(globalId);
  return parsed?.type === type ? parsed.id : null;
}

/** Like databaseIdOf, but a wrong ID is the client's error. */
export function requireDatabaseId(globalId: string, type: string, argument: string): string {
  const id = databaseIdOf(globalId, type);
  if (!id) throw badUserInput(`\`${argument}\` is not a valid ${type} ID.`, argument);
  return id;
}

/** A UUID that no row has: stands in for an ID that cannot be ours, so lookups simply find nothing. */
const UNKNOWN_ID = '00000000-0000-0000-0000-000000000000';

/** For mutation inputs, where a wrong ID is reported as "not found" in userErrors. */
export const databaseIdOrUnknown = (globalId: string, type: string): string =>
  databaseIdOf(globalId, type) ?? UNKNOWN_ID;
