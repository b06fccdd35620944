// Calculated query cost in the manner of Shopify's: scalars 0, objects 1, connections 2 plus their page size times
// their nodes, mutations 10, with `@cost` and `@listSize` in the SDL overriding any of these.
import {
  getDirectiveValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isAbstractType,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLAbstractType,
  type GraphQLCompositeType,
  type GraphQLDirective,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE } from '../connection.js';

export const MUTATION_COST = 10;
export const DEFAULT_LIST_SIZE = 10;
/** Selections visited while calculating; far above any real query, it stops fragment bombs from expanding. */
const MAX_VISITED_SELECTIONS = 10_000;

type AnyField = GraphQLField<unknown, unknown>;

interface FieldCost {
  /** Points for each object (or scalar) the field returns. */
  weight: number;
  /** A connection: its page size multiplies its nodes' cost. */
  connection: boolean;
  list: boolean;
  assumedSize: number;
  slicingArguments: readonly string[];
}

/** Reads `@cost` and `@listSize` once per field of one schema. */
export class CostModel {
  private readonly costDirective: GraphQLDirective;
  private readonly listSizeDirective: GraphQLDirective;
  private readonly fields = new WeakMap<AnyField, FieldCost>();

  constructor(readonly schema: GraphQLSchema) {
    const cost = schema.getDirective('cost');
    const listSize = schema.getDirective('listSize');
    if (!cost || !listSize)
      throw new Error('The schema lacks the @cost and @listSize directives (schema/cost.graphql)');
    this.costDirective = cost;
    this.listSizeDirective = listSize;
  }

  costOf(field: AnyField, parentType: GraphQLCompositeType): FieldCost {
    let cost = this.fields.get(field);
    if (!cost) {
      cost = this.read(field, parentType);
      this.fields.set(field, cost);
    }
    return cost;
  }

  private read(field: AnyField, parentType: GraphQLCompositeType): FieldCost {
    const type = getNamedType(field.type);
    const connection = isConnection(type);
    const listSize = field.astNode && getDirectiveValues(this.listSizeDirective, field.astNode);
    return {
      weight: this.weightOf(field, parentType),
      connection,
      // The connection multiplies its edges and nodes; the lists inside it count once.
      list: unwrapsToList(field.type) && !isConnection(parentType),
      assumedSize: (listSize?.assumedSize as number | undefined) ?? DEFAULT_LIST_SIZE,
      slicingArguments: (listSize?.slicingArguments as string[] | undefined) ?? [],
    };
  }

  private weightOf(field: AnyField, parentType: GraphQLCompositeType): number {
    const own = field.astNode && getDirectiveValues(this.costDirective, field.astNode);
    if (own) return own.weight as number;
    if (parentType === this.schema.getMutationType()) return MUTATION_COST;
    const type = getNamedType(field.type);
    if (!isCompositeType(type)) return 0;
    if (isConnection(type)) return 2;
    const typeCost = isObjectType(type) && type.astNode && getDirectiveValues(this.costDirective, type.astNode);
    return typeCost ? (typeCost.weight as number) : 1;
  }

  /** How many items a list field is expected to return, from its arguments. */
  sizeOf(cost: FieldCost, args: Record<string, unknown>): number {
    if (cost.connection) {
      const size = args.first ?? args.last;
      return typeof size === 'number' ? Math.max(size, 0) : DEFAULT_PAGE_SIZE;
    }
    for (const name of cost.slicingArguments) {
      const value = args[name];
      if (Array.isArray(value)) return value.length;
    }
    return cost.assumedSize;
  }

  private readonly estimator: ComplexityEstimator = ({ field, type, args, childComplexity }) => {
    const cost = this.costOf(field, type);
    if (cost.connection) return cost.weight + this.sizeOf(cost, args) * childComplexity;
    const perItem = cost.weight + childComplexity;
    return cost.list ? this.sizeOf(cost, args) * perItem : perItem;
  };

  /**
   * The cost an operation may reach, from its document and variables, before anything runs. Throws a
   * GraphQLError with code MAX_COST_EXCEEDED for a document too large to calculate.
   */
  requestedCost(document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>) {
    try {
      return getComplexity({
        schema: this.schema,
        query: document,
        operationName,
        variables,
        estimators: [this.estimator],
        maxQueryNodes: MAX_VISITED_SELECTIONS,
      });
    } catch (error) {
      if (error instanceof GraphQLError && error.message.includes('maximum allowed number of nodes')) {
        throw new GraphQLError(
          `The query expands to more than ${MAX_VISITED_SELECTIONS} selections, too many to calculate its cost.`,
          { extensions: { code: 'MAX_COST_EXCEEDED', http: { status: 400 } } },
        );
      }
      // The rest are variables or arguments that do not fit their types, found here before execution would.
      if (error instanceof GraphQLError) {
        throw new GraphQLError(error.message, {
          nodes: error.nodes,
          extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
        });
      }
      throw error;
    }
  }

  /** What one resolved field actually cost, given what it returned: its weight once per non-null value. */
  actualCost(field: AnyField, parentType: GraphQLCompositeType, result: unknown): number {
    return weighted(this.costOf(field, parentType).weight, result);
  }

  /**
   * What an executed operation actually cost, from the `data` it sent back: the sum of `actualCost` over every field
   * in the response, found by walking `data` together with the operation's selection sets (aliases, fragments,
   * @skip/@include). Objects nulled by an error are not charged. `variables` are the request's, as sent.
   */
  responseCost(
    document: DocumentNode,
    operationName: string | undefined,
    variables: Record<string, unknown>,
    data: Record<string, unknown> | null | undefined,
  ): number {
    if (!data) return 0;
    const operation = getOperationAST(document, operationName);
    const rootType = operation && this.schema.getRootType(operation.operation);
    if (!rootType) return 0;
    let coerced: Record<string, unknown> = {};
    if (operation.variableDefinitions?.length) {
      const values = getVariableValues(this.schema, operation.variableDefinitions, variables);
      if (values.errors) return 0; // execution refused them too
      coerced = values.coerced;
    }
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const walk = new ResponseWalk(this, fragments, coerced);
    return walk.objectCost(data, walk.plan(rootType, [operation.selectionSet]));
  }
}

/** `weight` once per non-null value: a list counts its non-null items. */
function weighted(weight: number, value: unknown): number {
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
class ResponseWalk {
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

const isConnection = (type: { name: string }) => type.name.endsWith('Connection');

function unwrapsToList(type: GraphQLOutputType): boolean {
  const nullable = isNonNullType(type) ? type.ofType : type;
  return isListType(nullable);
}
