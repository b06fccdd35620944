// What a query asks for below the field being resolved, so that a resolver can fetch it in the same statement.
import {
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type FieldNode,
  type GraphQLResolveInfo,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

/** Selected fields by name (not alias), each with every node that selects it: a field selected twice, under two
 * aliases or through several fragments, has all of its sub-selections to look into. */
export type Selection = ReadonlyMap<string, readonly FieldNode[]>;

/** What a selection needs from its operation to be read: the fragments to spread, the variables of `@skip` and
 * `@include`. A GraphQLResolveInfo has both. */
export type SelectionContext = Pick<GraphQLResolveInfo, 'fragments' | 'variableValues'>;

/** Whether `@skip` and `@include` let a selection through, as graphql-js decides it. */
function included(selection: SelectionNode, operation: SelectionContext): boolean {
  if (!selection.directives?.length) return true;
  if (getDirectiveValues(GraphQLSkipDirective, selection, operation.variableValues)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, selection, operation.variableValues)?.if !== false;
}

/** Adds the fields of a selection set to `fields`, with fragments spread in (whatever their type condition: at
 * worst, a resolver fetches something it did not need), each named fragment once, as graphql-js collects them. */
function collect(
  selectionSet: SelectionSetNode | undefined,
  operation: SelectionContext,
  fields: Map<string, FieldNode[]>,
  spread: Set<string>,
): void {
  for (const selection of selectionSet?.selections ?? []) {
    if (!included(selection, operation)) continue;
    if (selection.kind === Kind.FIELD) {
      const nodes = fields.get(selection.name.value);
      if (nodes) nodes.push(selection);
      else fields.set(selection.name.value, [selection]);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      collect(selection.selectionSet, operation, fields, spread);
    } else if (!spread.has(selection.name.value)) {
      spread.add(selection.name.value);
      collect(operation.fragments[selection.name.value]?.selectionSet, operation, fields, spread);
    }
  }
}

/** The fields selected below `fieldNodes` (the nodes of one field, or of several fields to look into together). */
export function fieldsBelow(fieldNodes: readonly FieldNode[], operation: SelectionContext): Selection {
  const fields = new Map<string, FieldNode[]>();
  const spread = new Set<string>();
  for (const node of fieldNodes) collect(node.selectionSet, operation, fields, spread);
  return fields;
}

/** The fields selected on the nodes of the connection being resolved, through `nodes { … }` and
 * `edges { node { … } }`. */
export function nodeSelection(info: Pick<GraphQLResolveInfo, 'fieldNodes'> & SelectionContext): Selection {
  const connection = fieldsBelow(info.fieldNodes, info);
  const edges = fieldsBelow(connection.get('edges') ?? [], info);
  return fieldsBelow([...(connection.get('nodes') ?? []), ...(edges.get('node') ?? [])], info);
}

/** The names of the fields selected on a connection's nodes. */
export const selectedNodeFields = (info: GraphQLResolveInfo): Set<string> => new Set(nodeSelection(info).keys());
