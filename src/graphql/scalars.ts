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

/** PostgreSQL's timestamps reach back to 4713 BC but not to year 0 as JavaScript writes it: keep to years 1-9999. */
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

function inRange(date: Date): Date {
  if (!(date.getTime() >= EARLIEST && date.getTime() <= LATEST)) {
    throw new GraphQLError('A DateTime must fall in the years 1 to 9999.', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return date;
}

const DateTime = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  parseValue: (value) => inRange(DateTimeResolver.parseValue(value)),
  parseLiteral: (ast, variables) => inRange(DateTimeResolver.parseLiteral(ast, variables)),
});

export const scalarResolvers = { DateTime, Decimal };
