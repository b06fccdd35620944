// What an executed operation is charged, from its response: `data` is walked together with the operation's selection
// sets, and each field is charged as requested but with every list at the length it came back with.
import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isAbstractType,
  isCompositeType,
  isObjectType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLAbstractType,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { CostModel } from './cost.js';

/** `weight` once per non-null value: a list counts its non-null items. */
export function weighted(weight: number, value: unknown): number {
  if (weight === 0 || value === null || value === undefined) return 0;
  if (!Array.isArray(value)) return weight;
  let count = 0;
  for (const item of value) if (item !== null && item !== undefined) count++;
  return weight * count;
}

/** A response key of one object type's selection: what graphql-js's collectFields merges under one key. */
interface PlannedField {
  key: string;
  /** The field (undefined for `__typename` and the other meta fields, which cost nothing and are not walked). */
  field?: GraphQLField<unknown, unknown>;
  parentType: GraphQLObjectType;
  /** The composite type of what the field returns; null for scalars, enums and meta fields. */
  type: GraphQLCompositeType | null;
  nodes: FieldNode[];
  /** The plan of each object the field returns, by the object's type; built on first use. */
  children?: Map<GraphQLObjectType, PlannedField[]>;
  /** What the field would cost as requested (its assumed list sizes), worked out on first use. */
  requested?: number;
  /** Its arguments, and what their input lists cost, worked out on first use. */
  args?: Record<string, unknown>;
  input?: number;
}

/**
 * One response's walk: each field is charged as it was requested (`@cost`, `@listSize`, input lists), except that a
 * list is counted at the length it came back with, shorter or longer. A field that came back null (a lookup that found
 * nothing, an error) is charged what it asked for. Plans are built once per selection and object type, however many
 * objects share them.
 */
export class ResponseWalk {
  private readonly schema: GraphQLSchema;

  constructor(
    private readonly model: CostModel,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
  ) {
    this.schema = model.schema;
  }

  /** `pageSize` multiplies what null fields of a connection are charged, as the requested cost multiplies them. */
  objectCost(object: Record<string, unknown>, fields: readonly PlannedField[], pageSize = 1): number {
    let total = 0;
    for (const planned of fields) {
      const value = object[planned.key];
      total += value === null || value === undefined ? pageSize * this.requested(planned) : this.charge(planned, value);
    }
    return total;
  }

  private charge(planned: PlannedField, value: unknown): number {
    const { field, parentType } = planned;
    if (!field) return 0;
    const cost = this.model.costOf(field, parentType);
    const input = this.inputCostOf(planned);
    if (cost.connection) {
      const pageSize = this.model.sizeOf(cost, this.argumentsOf(planned));
      return input + cost.weight + this.childCost(value, planned, pageSize);
    }
    return input + this.itemsCost(value, planned, cost.weight);
  }

  /** A value, or each item of a list: its weight and what it holds; a null item as requested. */
  private itemsCost(value: unknown, planned: PlannedField, weight: number): number {
    if (value === null || value === undefined) return weight + this.childRequested(planned);
    if (!Array.isArray(value)) return weight + this.childCost(value, planned);
    let total = 0;
    for (const item of value) total += this.itemsCost(item, planned, weight);
    return total;
  }

  private childCost(value: unknown, planned: PlannedField, pageSize = 1): number {
    const { type } = planned;
    if (!type) return 0;
    const object = value as Record<string, unknown>;
    if (isObjectType(type)) return this.objectCost(object, this.childPlan(planned, type), pageSize);
    return this.abstractCost(object, planned, type);
  }

  /** What a field costs as requested, before anything came back: the requested cost's estimate, for one field. */
  private requested(planned: PlannedField): number {
    if (planned.requested !== undefined) return planned.requested;
    const { field, parentType } = planned;
    let total = 0;
    if (field) {
      const cost = this.model.costOf(field, parentType);
      const args = this.argumentsOf(planned);
      const child = this.childRequested(planned);
      total = this.inputCostOf(planned);
      if (cost.connection) total += cost.weight + this.model.sizeOf(cost, args) * child;
      else total += (cost.list ? this.model.sizeOf(cost, args) : 1) * (cost.weight + child);
    }
    planned.requested = total;
    return total;
  }

  /** What one object the field returns costs as requested; for an interface or union, its costliest type's. */
  private childRequested(planned: PlannedField): number {
    const { type } = planned;
    if (!type) return 0;
    const types = isObjectType(type) ? [type] : this.schema.getPossibleTypes(type);
    let most = 0;
    for (const candidate of types) {
      let total = 0;
      for (const child of this.childPlan(planned, candidate)) total += this.requested(child);
      most = Math.max(most, total);
    }
    return most;
  }

  private argumentsOf(planned: PlannedField): Record<string, unknown> {
    const { field, nodes } = planned;
    return (planned.args ??= field ? getArgumentValues(field, nodes[0]!, this.variables) : {});
  }

  private inputCostOf(planned: PlannedField): number {
    const { field, parentType } = planned;
    return (planned.input ??= field ? this.model.inputCost(field, parentType, this.argumentsOf(planned)) : 0);
  }

  /**
   * An object of an interface or union type: its type is the one whose selection gives exactly the keys the object
   * has (and the `__typename` it has, when asked for). Where several types fit and would cost differently, the
   * costliest is charged.
   */
  private abstractCost(object: Record<string, unknown>, planned: PlannedField, type: GraphQLAbstractType): number {
    const keys = Object.keys(object).length;
    let cost: number | undefined;
    for (const candidate of this.schema.getPossibleTypes(type)) {
      const fields = this.childPlan(planned, candidate);
      if (fields.length !== keys || !fields.every((field) => fits(object, field, candidate))) continue;
      const candidateCost = this.objectCost(object, fields);
      cost = cost === undefined ? candidateCost : Math.max(cost, candidateCost);
    }
    return cost ?? 0;
  }

  private childPlan(planned: PlannedField, type: GraphQLObjectType): PlannedField[] {
    planned.children ??= new Map();
    let fields = planned.children.get(type);
    if (!fields) {
      const selectionSets = planned.nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
      fields = this.plan(type, selectionSets);
      planned.children.set(type, fields);
    }
    return fields;
  }

  /** The response keys of `type` for these selection sets, as graphql-js collects them. */
  plan(type: GraphQLObjectType, selectionSets: readonly SelectionSetNode[]): PlannedField[] {
    const byKey = new Map<string, PlannedField>();
    const visitedFragments = new Set<string>();
    for (const selectionSet of selectionSets) this.collect(type, selectionSet, byKey, visitedFragments);
    return [...byKey.values()];
  }

  private collect(
    type: GraphQLObjectType,
    selectionSet: SelectionSetNode,
    byKey: Map<string, PlannedField>,
    visitedFragments: Set<string>,
  ): void {
    for (const selection of selectionSet.selections) {
      if (!this.included(selection)) continue;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const planned = byKey.get(key);
        if (planned) planned.nodes.push(selection);
        else byKey.set(key, this.planField(type, key, selection));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (this.applies(selection.typeCondition?.name.value, type)) {
          this.collect(type, selection.selectionSet, byKey, visitedFragments);
        }
      } else {
        const name = selection.name.value;
        if (visitedFragments.has(name)) continue;
        visitedFragments.add(name);
        const fragment = this.fragments.get(name);
        if (fragment && this.applies(fragment.typeCondition.name.value, type)) {
          this.collect(type, fragment.selectionSet, byKey, visitedFragments);
        }
      }
    }
  }

  private planField(parentType: GraphQLObjectType, key: string, node: FieldNode): PlannedField {
    const name = node.name.value;
    const field = name.startsWith('__') ? undefined : parentType.getFields()[name];
    const type: GraphQLNamedType | null = field ? getNamedType(field.type) : null;
    return { key, field, parentType, type: type && isCompositeType(type) ? type : null, nodes: [node] };
  }

  private applies(typeCondition: string | undefined, type: GraphQLObjectType): boolean {
    if (typeCondition === undefined || typeCondition === type.name) return true;
    const conditional = this.schema.getType(typeCondition);
    return isAbstractType(conditional) && this.schema.isSubType(conditional, type);
  }

  /** What @skip and @include leave in. */
  private included(node: SelectionNode): boolean {
    if (!node.directives?.length) return true;
    if (getDirectiveValues(GraphQLSkipDirective, node, this.variables)?.if === true) return false;
    return getDirectiveValues(GraphQLIncludeDirective, node, this.variables)?.if !== false;
  }
}

/** Whether `object` can hold this field of `type`: it has the key, and the type's name under a `__typename`. */
function fits(object: Record<string, unknown>, planned: PlannedField, type: GraphQLObjectType): boolean {
  if (!(planned.key in object)) return false;
  return planned.nodes[0]!.name.value !== '__typename' || object[planned.key] === type.name;
}
