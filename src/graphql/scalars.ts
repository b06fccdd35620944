import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';

const DECIMAL = /^-?\d{1,15}(\.\d{1,12})?$/;

function parseDecimal(value: unknown): string {
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw new GraphQLError('A Decimal is a string of digits with an optional fraction, such as "19.99".', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return value;
}

export const Decimal = new GraphQLScalarType<string, string>({
  name: 'Decimal',
  serialize: (value) => parseDecimal(value),
  parseValue: parseDecimal,
  parseLiteral: (ast) => parseDecimal(ast.kind === Kind.STRING ? ast.value : undefined),
});

export const scalarResolvers = { DateTime: DateTimeResolver, Decimal };
