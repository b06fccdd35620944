// Persisted operations: automatic persisted queries (hash-only requests after the first), and trusted documents,
// a manifest of the operations a front end's build produced. In strict mode only those run.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ApolloServerPlugin } from '@apollo/server';
import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import { GraphQLError } from 'graphql';
import { z } from 'zod';
import type { Role } from '../../auth/viewer.js';
import type { Context } from '../context.js';

export type TrustedDocuments = ReadonlyMap<string, string>;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** GraphQL Codegen's persisted documents (`{ "<sha256>": "<document>" }`) or Apollo's persisted query manifest. */
const manifestSchema = z.union([
  z.record(z.string(), z.string()).transform((map) => Object.entries(map)),
  z
    .object({
      format: z.literal('apollo-persisted-query-manifest'),
      version: z.literal(1),
      operations: z.array(z.object({ id: z.string(), body: z.string() })),
    })
    .transform(({ operations }) => operations.map(({ id, body }): [string, string] => [id, body])),
]);

/** Reads a manifest and checks that every hash is the SHA-256 of its document, as clients will compute it. */
export async function loadTrustedDocuments(path: string): Promise<TrustedDocuments> {
  const parsed = manifestSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: not a persisted-documents manifest: ${parsed.error.message}`);
  for (const [hash, document] of parsed.data) {
    if (sha256(document) !== hash) throw new Error(`${path}: ${hash} is not the SHA-256 of its document`);
  }
  return new Map(parsed.data);
}

/**
 * Apollo's persisted-query store: trusted documents first, then queries clients registered themselves (none in
 * strict mode, where `registered` is null).
 */
export class PersistedQueryStore implements KeyValueCache<string> {
  constructor(
    private readonly trusted: TrustedDocuments,
    private readonly registered: KeyValueCache<string> | null,
  ) {}

  async get(hash: string) {
    return this.trusted.get(hash) ?? (await this.registered?.get(hash));
  }

  async set(hash: string, query: string, options?: KeyValueCacheSetOptions) {
    if (!this.trusted.has(hash)) await this.registered?.set(hash, query, options);
  }

  async delete(hash: string) {
    return (await this.registered?.delete(hash)) ?? false;
  }
}

/** Strict mode: operations outside the manifest are refused, except for the exempt roles (staff tooling). */
export function onlyTrustedDocuments(
  trusted: TrustedDocuments,
  exemptRoles: readonly Role[],
): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ queryHash, contextValue }) {
          if (trusted.has(queryHash)) return;
          const viewer = await contextValue.authenticate();
          if (viewer && exemptRoles.includes(viewer.role)) return;
          throw new GraphQLError('Only the operations of this store’s apps may run here; this one is not among them.', {
            extensions: { code: 'OPERATION_NOT_TRUSTED', http: { status: 403 } },
          });
        },
      };
    },
  };
}
