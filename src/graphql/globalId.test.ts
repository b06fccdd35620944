import { describe, expect, it } from 'vitest';
import { databaseIdOf, databaseIdOrUnknown, parseGlobalId, toGlobalId } from './globalId.js';

const uuid = '0196a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b';

describe('global IDs', () => {
  it('round-trip type and database ID', () => {
    expect(parseGlobalId(toGlobalId('Product', uuid))).toEqual({ type: 'Product', id: uuid });
  });

  it('are opaque', () => {
    expect(toGlobalId('Product', uuid)).not.toContain(uuid);
  });

  it.each(['', 'abc', toGlobalId('Product', '42'), Buffer.from(`Product:${uuid}`).toString('base64') + '=='])(
    'reject %j',
    (id) => expect(parseGlobalId(id)).toBeNull(),
  );

  it('check the type', () => {
    expect(databaseIdOf(toGlobalId('Category', uuid), 'Product')).toBeNull();
    expect(databaseIdOf(toGlobalId('Category', uuid), 'Category')).toBe(uuid);
    expect(databaseIdOrUnknown('junk', 'Category')).toBe('00000000-0000-0000-0000-000000000000');
  });
});
