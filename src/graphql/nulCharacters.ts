// PostgreSQL text cannot hold U+0000, so a string with one would fail deep inside a query. Turn such requests away
// up front, for every field at once: string literals anywhere in the document (arguments, nested input objects,
// lists, variable defaults) and every variable sent, declared or not. NULs hidden in base64 (cursors, global IDs)
// are refused where those are decoded (connection.ts, globalId.ts).
import { BREAK, GraphQLError, visit, type DocumentNode } from 'graphql';

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value && typeof value === 'object') {
    return Object.entries(value).some(([name, field]) => name.includes('\0') || hasNul(field));
  }
  return false;
}

function documentHasNul(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    StringValue(node) {
      if (!node.value.includes('\0')) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

/** Throws BAD_USER_INPUT when the operation carries a NUL. Synchronous, so that a hook can call it before it
 * starts any work of its own (Apollo runs the plugins' didResolveOperation hooks side by side): sessionCheck and
 * queryCost call it before they look up the session. */
export function refuseNulCharacters(document: DocumentNode, variables: unknown): void {
  if (hasNul(variables) || documentHasNul(document)) {
    throw new GraphQLError('Text cannot contain the NUL character (U+0000).', {
      extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
    });
  }
}
