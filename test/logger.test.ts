import { describe, expect, it } from 'vitest';
import { boltLogger, createLogger, scrub } from '../src/logger.js';
import { createLogCapture } from './support/log-capture.js';

const NUMBER = '+14155552671';
const TEXT = 'Your order is ready';

describe('logging', () => {
  const TOKEN = 'xoxb-1234-5678-abcdef';

  it('scrub drops payloads quoted in a message and everything after them', () => {
    expect(scrub(`http response: {"text":"${TEXT}","channel":"C0SUP"}`)).toBe('http response: [payload omitted]');
    expect(scrub('blocks: [{"type":"section"}]')).toBe('blocks: [payload omitted]');
  });

  it('scrub masks Slack tokens and phone-number-like runs, and leaves plain words alone', () => {
    expect(scrub(`using ${TOKEN} and xapp-1-A0APP-123-abc`)).toBe('using xox?-[redacted] and xapp-[redacted]');
    expect(scrub('sent to +1 (415) 555-2671 today')).toBe('sent to [number] today');
    expect(scrub('apiCall(chat.update) start')).toBe('apiCall(chat.update) start');
  });

  it('createLogger redacts numbers, texts, tokens and authorization headers, top level and one level down', () => {
    const capture = createLogCapture();
    const logger = createLogger('debug', capture.stream);
    logger.info(
      {
        to: NUMBER,
        text: TEXT,
        token: TOKEN,
        headers: { authorization: 'Bearer waping-secret-key' },
        send: { to: NUMBER, text: TEXT, body: `{"to":"${NUMBER}"}`, sendKey: 'kept' },
        request: { headers: { authorization: 'Bearer waping-secret-key' } },
      },
      'sending',
    );
    const [line] = capture.lines();
    expect(line).toMatchObject({
      msg: 'sending',
      to: '[redacted]',
      text: '[redacted]',
      token: '[redacted]',
      headers: { authorization: '[redacted]' },
      send: { to: '[redacted]', text: '[redacted]', body: '[redacted]', sendKey: 'kept' },
      request: { headers: { authorization: '[redacted]' } },
    });
    for (const secret of [NUMBER, TEXT, TOKEN, 'waping-secret-key']) expect(capture.text()).not.toContain(secret);
  });

  it("drops the payloads Bolt's debug messages quote, keeping only their words", () => {
    const capture = createLogCapture();
    const bolt = boltLogger(createLogger('debug', capture.stream));
    bolt.debug(`http request body: {"channel":"C0SUP","text":"${TEXT} ${NUMBER}"}`, { token: TOKEN });
    const [line] = capture.lines();
    expect(line).toMatchObject({ component: 'bolt', msg: 'http request body: [payload omitted]' });
    expect(line).not.toHaveProperty('detail');
    for (const secret of [NUMBER, TEXT, TOKEN]) expect(capture.text()).not.toContain(secret);
  });

  it('scrub leaves IPv4 addresses alone, so a failed call still says where it went', () => {
    expect(scrub('connect ECONNREFUSED 127.0.0.1:9')).toBe('connect ECONNREFUSED 127.0.0.1:9');
    expect(scrub(`call to 10.0.12.7 about ${NUMBER}`)).toBe('call to 10.0.12.7 about [number]');
  });

  it("keeps the type and code of an error Bolt logs, with its message scrubbed, and nothing else of Bolt's objects", () => {
    const capture = createLogCapture();
    const bolt = boltLogger(createLogger('debug', capture.stream));
    const error = Object.assign(new Error(`refused for ${NUMBER}`), { code: 'slack_webapi_request_error' });
    bolt.error('An API error occurred', error, { channel: 'C0SUP', text: TEXT });
    const [line] = capture.lines();
    expect(line).toMatchObject({
      msg: 'An API error occurred',
      error: { name: 'Error', code: 'slack_webapi_request_error', message: 'refused for [number]' },
    });
    for (const secret of [NUMBER, TEXT]) expect(capture.text()).not.toContain(secret);
  });
});
