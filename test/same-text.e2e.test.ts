import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyForOrigin } from '../src/core/idempotency.js';
import { RECENT_SEND_WINDOW_MS } from '../src/core/recent-sends.js';
import { groupIdForOrigin, idempotencyKeyForGroupRecipient } from '../src/core/send-groups.js';
import {
  DEPLOYED_STORES,
  expectCleanLogs,
  type Harness,
  type SendFormValues,
  startHarness,
  submitSendModal,
  waitFor,
} from './support/bot-harness.js';
import { unique } from './support/ids.js';

/*
 * The same text to the same number twice within ten minutes, from a new form (after a Slack error, say): the form
 * is shown again with a warning naming when and by whom, and sends only once "Send it again" is ticked.
 */

const TEAM = 'T0TEAM';
const NUMBERS = ['+14155550171', '+14155550172', '+14155550173'];
const CONFIG = { defaultDevice: 'dev_support', maxRecipientsWithoutApproval: 5 };

// biome-ignore lint/suspicious/noExplicitAny: Slack's answer is open-ended JSON
type Json = Record<string, any>;

/** The rich_text warning of an updated form, and whether the "Send it again" box is there. */
function warningOf(answer: Json): { elements: Json[]; box: boolean } {
  const blocks: Json[] = answer.view?.blocks ?? [];
  const warning = blocks.find((b) => b.block_id === 'repeated');
  return {
    elements: warning?.elements?.[0]?.elements ?? [],
    box: blocks.some((b) => b.block_id === 'send_again' && b.element?.type === 'checkboxes'),
  };
}

describe.each(DEPLOYED_STORES)('the same text twice on the %s store', (store) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ store, configFile: CONFIG, overrides: { sameTextWindowMs: RECENT_SEND_WINDOW_MS } });
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, NUMBERS);
    await h.stop();
  });

  const submit = (values: SendFormValues) => submitSendModal(h, values);

  it('warns a new form about the same text sent minutes ago, by whom, and sends once "Send it again" is ticked', async () => {
    const text = unique('Your table is ready ');
    const first = unique('V0FIRST');
    const before = Date.now();
    expect((await submit({ viewId: first, recipient: NUMBERS[0], text, user: 'U0ALICE' })).body).toBe('');
    await waitFor(() => h.waping.sendsFor(keyForOrigin(TEAM, first)) === 1, 10_000, 'the first send');

    // The same form again (a double click) is the form's own send: no warning, nothing sent twice.
    expect((await submit({ viewId: first, recipient: NUMBERS[0], text, user: 'U0ALICE' })).body).toBe('');

    const second = unique('V0SECOND');
    const warned = await submit({ viewId: second, recipient: NUMBERS[0], text, user: 'U0BOB' });
    expect(warned.json).toMatchObject({ response_action: 'update', view: { callback_id: 'send_modal' } });
    const { elements, box } = warningOf(warned.json as Json);
    expect(box).toBe(true);
    expect(elements).toContainEqual({ type: 'user', user_id: 'U0ALICE' });
    const when = elements.find((e) => e.type === 'date');
    expect(when?.timestamp).toBeGreaterThanOrEqual(Math.floor(before / 1000));
    expect(when?.timestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(elements.map((e) => e.text ?? '').join('')).toContain('This exact text went to +1 415 555 0171 at ');
    // The typed values stay in the form.
    expect(JSON.stringify(warned.json)).toContain(JSON.stringify(text));
    await h.bot.idle();
    expect(h.waping.sendsFor(keyForOrigin(TEAM, second))).toBe(0);

    const ticked = await submit({ viewId: second, recipient: NUMBERS[0], text, user: 'U0BOB', sendAgain: true });
    expect(ticked.body).toBe('');
    await waitFor(() => h.waping.sendsFor(keyForOrigin(TEAM, second)) === 1, 10_000, 'the ticked send');
    await h.bot.idle();
    expect(h.waping.sendsFor(keyForOrigin(TEAM, first))).toBe(1);
  });

  it('does not warn about another text, or the same text to another number', async () => {
    const text = unique('Your booking is confirmed ');
    const first = unique('V0ONE');
    expect((await submit({ viewId: first, recipient: NUMBERS[1], text })).body).toBe('');
    await waitFor(() => h.waping.sendsFor(keyForOrigin(TEAM, first)) === 1);
    for (const values of [
      { recipient: NUMBERS[1], text: `${text} (updated)` },
      { recipient: NUMBERS[2], text },
    ]) {
      const viewId = unique('V0OTHER');
      expect((await submit({ viewId, ...values })).body).toBe('');
      await waitFor(() => h.waping.sendsFor(keyForOrigin(TEAM, viewId)) === 1);
    }
  });

  it('checks each recipient of a team send, names only those that had the text, and sends all once ticked', async () => {
    const text = unique('The shop opens at ten ');
    const single = unique('V0SINGLE');
    expect((await submit({ viewId: single, recipient: NUMBERS[2], text })).body).toBe('');
    await waitFor(() => h.waping.sendsFor(keyForOrigin(TEAM, single)) === 1);

    const team = unique('V0TEAM');
    const recipients = `${NUMBERS[1]}\n${NUMBERS[2]}`;
    const warned = await submit({ viewId: team, recipient: recipients, text, user: 'U0BOB' });
    const words = warningOf(warned.json as Json)
      .elements.map((e) => e.text ?? '')
      .join('');
    expect(words).toContain('+1 415 555 0173');
    expect(words).not.toContain('+1 415 555 0172');
    await h.bot.idle();
    expect(await h.bot.store.get(`group:${groupIdForOrigin(TEAM, team)}`)).toBeUndefined();

    expect((await submit({ viewId: team, recipient: recipients, text, user: 'U0BOB', sendAgain: true })).body).toBe('');
    const groupId = groupIdForOrigin(TEAM, team);
    const keys = [NUMBERS[1], NUMBERS[2]].map((to) => idempotencyKeyForGroupRecipient(TEAM, groupId, to as string));
    await waitFor(() => keys.every((key) => h.waping.sendsFor(key) === 1), 10_000, 'both team sends');
  });
});
