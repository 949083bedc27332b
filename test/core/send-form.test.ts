import { describe, expect, it } from 'vitest';
import { sendFormErrorWords } from '../../src/adapters/slack/wording/send-form.js';
import type { Device } from '../../src/core/ports.js';
import { checkSendForm, MAX_TEXT_LENGTH } from '../../src/core/send-form.js';

const NUMBER = '+14155552671';
const TEXT = 'Your order is ready';

describe('checkSendForm', () => {
  const devices: Device[] = [
    { id: 'dev_support', name: 'Support line', connected: true },
    { id: 'dev_old', name: 'Old phone', connected: false },
  ];

  it('returns the E.164 number, the device and the text exactly as typed, not trimmed', () => {
    const text = '  Your order is ready\n\n';
    expect(checkSendForm({ recipient: '+1 415 555 2671', deviceId: 'dev_support', text }, devices)).toEqual({
      ok: true,
      to: [NUMBER],
      device: devices[0],
      text,
    });
  });

  it('reports every problem at once, each under its field', () => {
    const checked = checkSendForm({ recipient: '12', deviceId: undefined, text: '  ' }, devices);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && Object.keys(checked.errors).sort()).toEqual(['device', 'message', 'recipient']);
  });

  it(`accepts ${MAX_TEXT_LENGTH} characters and refuses ${MAX_TEXT_LENGTH + 1}, saying by how much to shorten`, () => {
    const form = { recipient: NUMBER, deviceId: 'dev_support' };
    expect(checkSendForm({ ...form, text: 'x'.repeat(4096) }, devices).ok).toBe(true);
    const tooLong = checkSendForm({ ...form, text: 'x'.repeat(4097) }, devices);
    expect(tooLong.ok).toBe(false);
    expect(!tooLong.ok && sendFormErrorWords(tooLong.errors)).toMatchObject({
      message: expect.stringContaining('Shorten it by 1'),
    });
    expect(Object.keys(!tooLong.ok ? tooLong.errors : {})).toEqual(['message']);
  });

  it('refuses a disconnected device, naming it and saying how to re-link it', () => {
    const checked = checkSendForm({ recipient: NUMBER, deviceId: 'dev_old', text: TEXT }, devices);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && sendFormErrorWords(checked.errors)).toMatchObject({
      device: expect.stringMatching(/Old phone.*re-link/),
    });
  });

  it('refuses a device that is no longer offered', () => {
    const checked = checkSendForm({ recipient: NUMBER, deviceId: 'dev_gone', text: TEXT }, devices);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && sendFormErrorWords(checked.errors)).toMatchObject({
      device: expect.stringMatching(/not available/),
    });
  });

  it('uses the default country for national numbers', () => {
    const checked = checkSendForm({ recipient: '415 555 2671', deviceId: 'dev_support', text: TEXT }, devices, 'US');
    expect(checked).toMatchObject({ ok: true, to: [NUMBER] });
  });
});
