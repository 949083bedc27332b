import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../src/core/backoff.js';

describe('backoffDelayMs', () => {
  it('waits between half and all of base·2^(attempt-1)', () => {
    expect(backoffDelayMs(1, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelayMs(1, 500, 30_000, () => 1)).toBe(500);
    expect(backoffDelayMs(3, 500, 30_000, () => 0)).toBe(1_000);
    expect(backoffDelayMs(3, 500, 30_000, () => 1)).toBe(2_000);
    expect(backoffDelayMs(3, 500, 30_000, () => 0.5)).toBe(1_500);
  });

  it('never waits longer than the cap, however many attempts were made', () => {
    expect(backoffDelayMs(50, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelayMs(50, 500, 30_000, () => 0)).toBe(15_000);
  });

  it('treats attempt 0 (nothing tried yet) like the first attempt', () => {
    expect(backoffDelayMs(0, 500, 30_000, () => 1)).toBe(500);
  });

  it('stays within its bounds for any attempt and any random draw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, draw) => {
        const ceiling = Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));
        const delay = backoffDelayMs(attempt, 500, 30_000, () => draw);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(delay).toBeLessThanOrEqual(ceiling);
      }),
    );
  });
});
