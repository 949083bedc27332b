import { describe, expect, it } from 'vitest';
import { passingFor } from '../src/readiness.js';

describe('passingFor: a check asked before every request', () => {
  it('is taken as passing for a while after it passed, and checked again after that', async () => {
    let now = 0;
    let calls = 0;
    const cached = passingFor(
      async () => {
        calls++;
        return undefined;
      },
      { now: () => now },
      1_000,
    );
    expect(await cached()).toBeUndefined();
    now = 999;
    expect(await cached()).toBeUndefined();
    expect(calls).toBe(1);
    now = 1_000;
    expect(await cached()).toBeUndefined();
    expect(calls).toBe(2);
  });

  it('never remembers a failure: each call checks again until it passes', async () => {
    let problem: string | undefined = 'store down';
    let calls = 0;
    const cached = passingFor(
      async () => {
        calls++;
        return problem;
      },
      { now: () => 0 },
      1_000,
    );
    expect(await cached()).toBe('store down');
    expect(await cached()).toBe('store down');
    problem = undefined;
    expect(await cached()).toBeUndefined();
    expect(await cached()).toBeUndefined();
    expect(calls).toBe(3);
  });
});
