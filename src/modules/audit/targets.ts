// What an audit entry is about: the global IDs in a mutation field's arguments and in the payload it returned.
// Only values typed `ID` in the schema that decode as one of our global IDs are taken, so no other argument value
// (a password, a token, a card token, a free-text note) can ever reach the audit log.
import {
  getNamedType,
  getNullableType,
  isInputObjectType,
  isListType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
} from 'graphql';
import { parseGlobalId, toGlobalId, UUID } from '../../graphql/globalId.js';

const isGlobalId = (value: unknown): value is string => typeof value === 'string' && parseGlobalId(value) !== null;

function collectInputIds(type: GraphQLInputType, value: unknown, found: string[]): void {
  if (value === null || value === undefined) return;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (Array.isArray(value)) for (const item of value) collectInputIds(nullable.ofType, item, found);
  } else if (isInputObjectType(nullable)) {
    if (typeof value !== 'object') return;
    for (const field of Object.values(nullable.getFields())) {
      collectInputIds(field.type, (value as Record<string, unknown>)[field.name], found);
    }
  } else if (isScalarType(nullable) && nullable.name === 'ID' && isGlobalId(value)) {
    found.push(value);
  }
}

/** The global IDs among a field's (coerced) arguments: every `ID` value at any depth of input objects and lists,
 * in the order the schema declares the arguments and input fields. */
export function argumentIds(field: GraphQLField<unknown, unknown>, args: Record<string, unknown>): string[] {
  const found: string[] = [];
  for (const argument of field.args) collectInputIds(argument.type, args[argument.name], found);
  return found;
}

/** The global ID of an object a resolver returned as `type`: its database ID made global, or a global ID of it. */
function nodeId(typeName: string, object: unknown): string | null {
  const id = object && typeof object === 'object' ? (object as { id?: unknown }).id : undefined;
  if (typeof id !== 'string') return null;
  if (UUID.test(id)) return toGlobalId(typeName, id);
  return parseGlobalId(id)?.type === typeName ? id : null;
}

/** The global IDs a mutation's payload returns, one level deep: for each field of the payload type (in schema
 * order) whose type is a `Node` object type, or a list of them, the ID of each object it holds; for each field of
 * type `ID` (such as `deletedProductId`), its value. Read from the resolver's result, so they are found whatever
 * the client selected. */
export function payloadIds(type: GraphQLOutputType, result: unknown): string[] {
  const payload = getNullableType(type);
  if (!isObjectType(payload) || !result || typeof result !== 'object') return [];
  const found: string[] = [];
  for (const field of Object.values(payload.getFields())) {
    const named = getNamedType(field.type);
    const value = (result as Record<string, unknown>)[field.name];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (isScalarType(named) && named.name === 'ID') {
        if (isGlobalId(item)) found.push(item);
      } else if (isObjectType(named) && named.getInterfaces().some((face) => face.name === 'Node')) {
        const id = nodeId(named.name, item);
        if (id) found.push(id);
      }
    }
  }
  return found;
}

/** Each ID once, in the order first seen. */
export const distinct = (ids: string[]): string[] => [...new Set(ids)];
