import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derivedUuid, keyForOrigin, keyForRetry } from '../../src/core/idempotency.js';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('idempotency keys', () => {
  it('derives the same key from the same interaction, every time', () => {
    expect(keyForOrigin('T0TEAM', 'V0ABC')).toBe(keyForOrigin('T0TEAM', 'V0ABC'));
    expect(keyForRetry('T0TEAM', 'C0SUP', '1700000000.000100', 'retry_send', 1)).toBe(
      keyForRetry('T0TEAM', 'C0SUP', '1700000000.000100', 'retry_send', 1),
    );
  });

  it('formats keys as RFC 9562 version 8 UUIDs with the RFC variant', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (parts) => {
        expect(derivedUuid(...parts)).toMatch(UUID_V8);
      }),
    );
    expect(keyForOrigin('T0TEAM', 'V0ABC')).toMatch(UUID_V8);
  });

  it('gives different views, teams, channels, messages, actions and attempts different keys', () => {
    const keys = [
      keyForOrigin('T0TEAM', 'V0ABC'),
      keyForOrigin('T0TEAM', 'V0ABD'),
      keyForOrigin('T0OTHER', 'V0ABC'),
      keyForRetry('T0TEAM', 'C0SUP', '1700000000.000100', 'retry_send', 1),
      keyForRetry('T0TEAM', 'C0SUP', '1700000000.000100', 'retry_send', 2),
      keyForRetry('T0TEAM', 'C0OPS', '1700000000.000100', 'retry_send', 1),
      keyForRetry('T0TEAM', 'C0SUP', '1700000000.000200', 'retry_send', 1),
      keyForRetry('T0TEAM', 'C0SUP', '1700000000.000100', 'resend', 1),
      keyForRetry('T0OTHER', 'C0SUP', '1700000000.000100', 'retry_send', 1),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('never lets a view key and an action key collide, whatever their parts', () => {
    expect(keyForOrigin('T0TEAM', 'V0ABC')).not.toBe(derivedUuid('action', 'T0TEAM', 'V0ABC'));
    expect(keyForOrigin('T0TEAM', 'V0ABC')).toBe(derivedUuid('view', 'T0TEAM', 'V0ABC'));
  });

  it("length-prefixes the parts, so ('ab','c') and ('a','bc') give different keys", () => {
    expect(derivedUuid('ab', 'c')).not.toBe(derivedUuid('a', 'bc'));
    expect(derivedUuid('a:b')).not.toBe(derivedUuid('a', 'b'));
    expect(derivedUuid('')).not.toBe(derivedUuid());
    fc.assert(
      fc.property(fc.array(fc.string()), fc.array(fc.string()), (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(derivedUuid(...a)).not.toBe(derivedUuid(...b));
      }),
    );
  });
});
