/**
 * The exit-code rule for failures the CLI does not raise itself: a store error (STORE_FAILED,
 * STORE_BUSY, STORE_CORRUPT) is a command that failed (1), printed as one `vigil: CODE:` line.
 */
import { StoreError } from '@vigil/alarm';
import { describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_USAGE, errorLine, exitCodeOf, UsageError } from '../src/errors.js';

describe('exit codes', () => {
  it.each(['STORE_FAILED', 'STORE_BUSY', 'STORE_CORRUPT'] as const)('%s exits 1 with its code', (code) => {
    const err = new StoreError(code, 'list', 'the store thread died');
    expect(exitCodeOf(err)).toBe(EXIT_FAILURE);
    expect(errorLine(err)).toBe(`vigil: ${code}: alarm store list failed: the store thread died`);
  });

  it('a usage error exits 2', () => {
    expect(exitCodeOf(new UsageError('bad'))).toBe(EXIT_USAGE);
  });
});
