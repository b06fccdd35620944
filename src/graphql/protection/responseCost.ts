// An executed operation's actual cost, from the response: `data` is walked together with the operation's selection
// sets, and each field is charged its weight once per non-null value it returned.
import {
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
  /** The name of the field (`__typename` and the other meta fields cost nothing and are not walked). */
  name: string;
  weight: number;
  /** The composite type of what the field returns; null for scalars, enums and meta fields. */
  type: GraphQLCompositeType | null;
  nodes: FieldNode[];
  /** The plan of each object the field returns, by the object's type; built on first use. */
  children?: Map<GraphQLObjectType, PlannedField[]>;
}

/** One response's walk: plans are built once per selection and object type, however many objects share them. */
export class ResponseWalk {
  private readonly schema: GraphQLSchema;

  constructor(
    private readonly model: CostModel,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
  ) {
    this.schema = model.schema;
  }

  objectCost(object: Record<string, unknown>, fields: readonly PlannedField[]): number {
    let total = 0;
    for (const planned of fields) {
      const value = object[planned.key];
      if (value === null || value === undefined) continue;
      total += weighted(planned.weight, value);
      if (planned.type) total += this.valueCost(value, planned, planned.type);
    }
    return total;
  }

  private valueCost(value: unknown, planned: PlannedField, type: GraphQLCompositeType): number {
    if (value === null || value === undefined) return 0;
    if (Array.isArray(value)) {
      let total = 0;
      for (const item of value) total += this.valueCost(item, planned, type);
      return total;
    }
    const object = value as Record<string, unknown>;
    if (isObjectType(type)) return this.objectCost(object, this.childPlan(planned, type));
    return this.abstractCost(object, planned, type);
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
    if (!field) return { key, name, weight: 0, type: null, nodes: [node] };
    const type: GraphQLNamedType = getNamedType(field.type);
    return {
      key,
      name,
      weight: this.model.costOf(field, parentType).weight,
      type: isCompositeType(type) ? type : null,
      nodes: [node],
    };
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
function fits(object: Record<string, unknown>, field: PlannedField, type: GraphQLObjectType): boolean {
  if (!(field.key in object)) return false;
  return field.name !== '__typename' || object[field.key] === type.name;
}
