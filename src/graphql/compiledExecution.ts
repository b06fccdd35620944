// Operations run as JavaScript compiled from their document by graphql-jit, once per document, instead of being
// interpreted field by field by graphql-js: the same resolvers (the shield's among them), the same answers, a
// fraction of the work per field. Apollo Server takes an executor only through its gateway interface, so this is a
// gateway over the one local schema. Everything before execution (parsing, validation, limits, cost, the session,
// the response cache) stays Apollo's, and compiled documents live as long as Apollo keeps the parsed document.
import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import {
  execute,
  getVariableValues,
  GraphQLError,
  printSchema,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type Source,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

type Compiled = CompiledQuery | ExecutionResult;

/** The offset in `source` of a line and column (both from 1). */
function offsetOf(source: Source, { line, column }: { line: number; column: number }): number {
  let offset = 0;
  for (let at = 1; at < line; at++) offset = source.body.indexOf('\n', offset) + 1;
  return offset + column - 1;
}

/** graphql-jit's error as graphql-js makes it: its own class leaves out `extensions` when the thrown error has none
 * (Apollo reads `extensions.code`), and carries locations without the nodes graphql-js builds them from. */
function asGraphQLError(error: GraphQLError, source: Source | undefined): GraphQLError {
  return new GraphQLError(error.message, {
    source,
    positions: source && error.locations?.map((location) => offsetOf(source, location)),
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions,
  });
}

export function compiledExecution(schema: GraphQLSchema): GatewayInterface {
  const compiledByDocument = new WeakMap<DocumentNode, Map<string | null, Compiled>>();
  const compiled = (document: DocumentNode, operationName: string | null): Compiled => {
    let operations = compiledByDocument.get(document);
    if (!operations) compiledByDocument.set(document, (operations = new Map<string | null, Compiled>()));
    let query = operations.get(operationName);
    if (!query) {
      query = compileQuery(schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true });
      operations.set(operationName, query);
    }
    return query;
  };

  const executor: GatewayExecutor = async ({ document, operationName, operation, request, context }) => {
    const query = compiled(document, operationName);
    // What graphql-jit cannot compile, graphql-js runs as it always did.
    if (!isCompiledQuery(query))
      return execute({ schema, document, operationName, contextValue: context, variableValues: request.variables });
    const result = await query.query(undefined, context, request.variables ?? {});
    if (!result.errors?.length) return result;
    if (result.data === undefined) {
      // Variables that do not coerce: graphql-js's own errors, which Apollo answers as BAD_USER_INPUT.
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {});
      if (coerced.errors) return { errors: coerced.errors };
    }
    const source = document.loc?.source;
    return { ...result, errors: result.errors.map((error) => asGraphQLError(error, source)) };
  };

  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => {};
    },
    load: () => Promise.resolve({ executor }),
    stop: () => Promise.resolve(),
  };
}

/** A list whose items load on their own, settled into one promise, each failed item as its error. graphql-jit
 * mis-completes a list of promises some of which reject (it appends an item), where graphql-js settles each. */
export const settleEach = <T>(items: Promise<T>[]): Promise<(T | Error)[]> =>
  Promise.all(
    items.map((item) => item.catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))),
  );
