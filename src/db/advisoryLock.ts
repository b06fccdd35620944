// Instances that start together take turns through one-time work under a PostgreSQL advisory lock.
import pg from 'pg';

/**
 * Runs `work` holding the advisory lock `key` on a connection of its own, so that instances starting together do it
 * one after another and the later ones find it done. `onWait` is called when another instance holds the lock.
 */
export async function withAdvisoryLock<T>(
  url: string,
  key: number,
  work: () => Promise<T>,
  onWait?: () => void,
): Promise<T> {
  // No statement or lock timeout: waiting as long as the other instance's work takes is the point.
  const client = new pg.Client({ connectionString: url, options: '-c statement_timeout=0 -c lock_timeout=0' });
  // A dropped connection releases the lock; what `work` writes must still be safe to find half done.
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key]);
    if (!rows[0]?.locked) {
      onWait?.();
      await client.query('SELECT pg_advisory_lock($1)', [key]);
    }
    return await work();
  } finally {
    await client.end(); // ending the session releases the lock
  }
}
