import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../logger.js';
import { CONNECTION_ERROR_LOG_INTERVAL_MS, connectionErrorLogger } from './database.js';

describe('connectionErrorLogger', () => {
  it('warns of a burst of lost connections once, then once per interval with the count left unlogged', () => {
    const warn = vi.fn();
    let now = 1_000_000;
    const report = connectionErrorLogger({ warn } as unknown as Logger, 'primary', () => now);
    const lost = (n: number) => new Error(`terminating connection ${n}`);

    for (let i = 0; i < 5; i++) report(lost(i)); // a restart ends every connection at once
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenLastCalledWith(
      { err: lost(0), pool: 'primary', unloggedSincePrevious: 0 },
      'database connection lost',
    );

    now += CONNECTION_ERROR_LOG_INTERVAL_MS - 1;
    report(lost(5));
    expect(warn).toHaveBeenCalledTimes(1);

    now += 1;
    report(lost(6));
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenLastCalledWith(
      { err: lost(6), pool: 'primary', unloggedSincePrevious: 5 },
      'database connection lost',
    );
  });
});
