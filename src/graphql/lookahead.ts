// What a query asks for below the field being resolved, so that a resolver can fetch it in the same statement.
import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/** The fields of a selection set, with fragments spread in (whatever their type condition: at worst, a resolver
 * fetches something it did not need). */
function fieldsOf(selectionSet: SelectionSetNode | undefined, info: GraphQLResolveInfo): FieldNode[] {
  return (selectionSet?.selections ?? []).flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection];
    const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : info.fragments[selection.name.value];
    return fragment ? fieldsOf(fragment.selectionSet, info) : [];
  });
}

/** The names of the fields selected on a connection's nodes, through `nodes { … }` and `edges { node { … } }`. */
export function selectedNodeFields(info: GraphQLResolveInfo): Set<string> {
  const nodes = info.fieldNodes
    .flatMap((connection) => fieldsOf(connection.selectionSet, info))
    .flatMap((field) => {
      if (field.name.value === 'nodes') return [field];
      if (field.name.value !== 'edges') return [];
      return fieldsOf(field.selectionSet, info).filter((edgeField) => edgeField.name.value === 'node');
    });
  return new Set(nodes.flatMap((node) => fieldsOf(node.selectionSet, info)).map((field) => field.name.value));
}
