import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../../../src/adapters/waping/webhook-signature.js';

// The Standard Webhooks spec's own test vector.
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const timestamp = 1614265330;
const body = '{"test": 2432232314}';
const signature = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

const headers = { id, timestamp: String(timestamp), signature };
const verify = (overrides: Partial<Parameters<typeof verifyWebhook>[0]> = {}) =>
  verifyWebhook({ secrets: [secret], headers, body, nowSeconds: timestamp, ...overrides });

describe('Standard Webhooks signatures', () => {
  it('signs the spec test vector exactly as the spec says', () => {
    expect(signWebhook(secret, id, timestamp, body)).toBe(signature);
  });

  it('verifies the spec test vector', () => {
    expect(verify()).toEqual({ ok: true });
  });

  it('verifies a Buffer body byte for byte', () => {
    expect(verify({ body: Buffer.from(body) })).toEqual({ ok: true });
  });

  it('accepts a raw secret without the whsec_ prefix as UTF-8 bytes', () => {
    const raw = 'a plain shared secret';
    const signed = signWebhook(raw, id, timestamp, body);
    expect(verify({ secrets: [raw], headers: { ...headers, signature: signed } })).toEqual({ ok: true });
  });

  it.each([
    ['webhook-id', { ...headers, id: undefined }],
    ['webhook-timestamp', { ...headers, timestamp: undefined }],
    ['webhook-signature', { ...headers, signature: undefined }],
  ])('rejects a request without the %s header', (name, incomplete) => {
    expect(verify({ headers: incomplete })).toEqual({ ok: false, reason: `missing ${name} header` });
  });

  it('rejects a timestamp that is not a number of seconds', () => {
    expect(verify({ headers: { ...headers, timestamp: '2021-02-24T15:02:10Z' } })).toEqual({
      ok: false,
      reason: 'invalid webhook-timestamp header',
    });
  });

  it('rejects a signature that is not base64', () => {
    const result = verify({ headers: { ...headers, signature: 'v1,g0hM9SsE*OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' } });
    expect(result).toEqual({ ok: false, reason: 'no v1 signature in webhook-signature header' });
  });

  it('rejects a truncated signature', () => {
    const result = verify({ headers: { ...headers, signature: signature.slice(0, -8) } });
    expect(result.ok).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    const other = 'whsec_dGhpcyBpcyBub3QgdGhlIHJpZ2h0IHNlY3JldA==';
    expect(verify({ secrets: [other] })).toEqual({ ok: false, reason: 'no matching signature' });
  });

  it('rejects a body with one byte changed', () => {
    expect(verify({ body: body.replace('4', '5') })).toEqual({ ok: false, reason: 'no matching signature' });
  });

  it('rejects a signature of another webhook-id', () => {
    expect(verify({ headers: { ...headers, id: 'msg_other' } })).toEqual({
      ok: false,
      reason: 'no matching signature',
    });
  });

  it('rejects a timestamp more than five minutes old', () => {
    expect(verify({ nowSeconds: timestamp + 301 })).toEqual({ ok: false, reason: 'timestamp too old' });
  });

  it('rejects a timestamp more than five minutes in the future', () => {
    expect(verify({ nowSeconds: timestamp - 301 })).toEqual({ ok: false, reason: 'timestamp in the future' });
  });

  it('accepts a timestamp just inside the tolerance either way', () => {
    expect(verify({ nowSeconds: timestamp + 300 })).toEqual({ ok: true });
    expect(verify({ nowSeconds: timestamp - 300 })).toEqual({ ok: true });
  });

  it('honours a custom tolerance', () => {
    expect(verify({ nowSeconds: timestamp + 61, toleranceSeconds: 60 })).toEqual({
      ok: false,
      reason: 'timestamp too old',
    });
  });

  it('accepts a header with several signatures of which one is valid', () => {
    const several = `v1,${Buffer.alloc(32, 7).toString('base64')} v2,whatever ${signature} v1,bm90IGJhc2U2NA==`;
    expect(verify({ headers: { ...headers, signature: several } })).toEqual({ ok: true });
  });

  it('ignores signatures of other versions', () => {
    const otherVersion = signature.replace('v1,', 'v1a,');
    expect(verify({ headers: { ...headers, signature: otherVersion } })).toEqual({
      ok: false,
      reason: 'no v1 signature in webhook-signature header',
    });
  });

  it('accepts any of several secrets while one is being rotated', () => {
    const next = 'whsec_bmV4dCBzZWNyZXQgYWZ0ZXIgcm90YXRpb24=';
    expect(verify({ secrets: [next, secret] })).toEqual({ ok: true });
    const signedWithNext = signWebhook(next, id, timestamp, body);
    expect(verify({ secrets: [next, secret], headers: { ...headers, signature: signedWithNext } })).toEqual({
      ok: true,
    });
  });

  it('rejects everything when no secret is configured', () => {
    expect(verify({ secrets: [] })).toEqual({ ok: false, reason: 'no webhook secret configured' });
  });
});
