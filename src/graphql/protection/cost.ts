// Calculated query cost in the manner of Shopify's: scalars 0, objects 1, connections 2 plus their page size times
// their nodes, mutations 10, introspection 10, with `@cost` and `@listSize` in the SDL overriding any of these. Input
// lists cost a point per element (their work grows with them as a list's does with its size), but for slicing
// arguments, which already size the list they return.
import {
  getDirectiveValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  isInputObjectType,
  isCompositeType,
  isIntrospectionType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLDirective,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE } from '../connection.js';
import { ResponseWalk, weighted } from './responseCost.js';

export const MUTATION_COST = 10;
/** `__schema` or `__type`, whatever they select: the answer is read off the schema in memory, and graphql-js's
 * MaxIntrospectionDepthRule already refuses the nested introspection that would make it large. */
export const INTROSPECTION_COST = 10;
export const DEFAULT_LIST_SIZE = 10;
/** Points for each element of a list in a field's arguments. */
export const INPUT_ELEMENT_COST = 1;
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
    if (isIntrospectionType(type)) return isIntrospectionType(parentType) ? 0 : INTROSPECTION_COST;
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

  /** What a field's arguments cost each time it runs: a point per element of every list in them. */
  inputCost(field: AnyField, parentType: GraphQLCompositeType, args: Record<string, unknown>): number {
    const { slicingArguments } = this.costOf(field, parentType);
    let total = 0;
    for (const argument of field.args) {
      if (!slicingArguments.includes(argument.name)) total += inputValueCost(argument.type, args[argument.name]);
    }
    return total;
  }

  private readonly estimator: ComplexityEstimator = ({ field, type, args, childComplexity }) => {
    const cost = this.costOf(field, type);
    const input = this.inputCost(field, type, args);
    if (cost.connection) return input + cost.weight + this.sizeOf(cost, args) * childComplexity;
    const perItem = cost.weight + childComplexity;
    return input + (cost.list ? this.sizeOf(cost, args) * perItem : perItem);
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
   * What an executed operation is charged, from the `data` it sent back (walked together with the operation's
   * selection sets, aliases, fragments and @skip/@include): its requested cost with every list counted at the length
   * it came back with, shorter or longer. Nothing else is given back: a field that came back null, a lookup that
   * found nothing or an object nulled by an error, is charged what it asked for. `variables` are the request's.
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

const isConnection = (type: { name: string }) => type.name.endsWith('Connection');

function inputValueCost(type: GraphQLInputType, value: unknown): number {
  if (value === null || value === undefined) return 0;
  const nullable = isNonNullType(type) ? type.ofType : type;
  if (isListType(nullable)) {
    if (!Array.isArray(value)) return inputValueCost(nullable.ofType, value);
    let total = 0;
    for (const item of value) total += INPUT_ELEMENT_COST + inputValueCost(nullable.ofType, item);
    return total;
  }
  if (!isInputObjectType(nullable)) return 0;
  let total = 0;
  for (const field of Object.values(nullable.getFields())) {
    total += inputValueCost(field.type, (value as Record<string, unknown>)[field.name]);
  }
  return total;
}

function unwrapsToList(type: GraphQLOutputType): boolean {
  const nullable = isNonNullType(type) ? type.ofType : type;
  return isListType(nullable);
}
