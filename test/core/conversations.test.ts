import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/adapters/store/create-store.js';
import type { InboundEntry, InboundMessage, InboundOutcome } from '../../src/core/inbound.js';
import { noTelemetry } from '../../src/core/telemetry.js';
import { FakeWaping } from '../support/fake-waping.js';
import { RecordingConversationNotifier, RecordingNotifier } from '../support/fakes.js';
import { defaultConfig, wireTestServices } from '../support/services.js';
import { notingCalls } from '../support/store-calls.js';

/*
 * Conversations over the memory store, wired as the bot wires them, for a message from a number nobody here wrote
 * to (the e2e suite covers threads, order and replicas over HTTP).
 */

const NOW = 1_700_000_000_000;

const message: InboundMessage = {
  messageId: 'wamid_unit_1',
  deviceId: 'dev_support',
  from: '+14155550131',
  at: NOW - 1_000,
  kind: 'text',
  text: 'Hello, who is this?',
};

async function wired(env: Record<string, string>, calls: string[] = []) {
  const backend = await createStore({ url: 'memory://', dataDir: '/nonexistent' });
  const store = notingCalls(backend, calls);
  const posts = new RecordingConversationNotifier();
  const outcomes: InboundOutcome[] = [];
  const services = wireTestServices({
    store,
    waping: new FakeWaping(),
    notifier: new RecordingNotifier(),
    conversationNotifier: posts,
    clock: { now: () => NOW, sleep: async () => {} },
    config: defaultConfig(env),
    telemetry: { ...noTelemetry, inboundMessage: (outcome) => outcomes.push(outcome) },
    inboundOrderHoldMs: 0,
  });
  return { store, posts, outcomes, ...services };
}

describe('Conversations: a message from a number nobody wrote to', () => {
  it('goes to the inbox once per WAPing message, whatever its webhook ids, and keeps only its outcome', async () => {
    const { store, posts, outcomes, conversations, background } = await wired({ INBOX_CHANNEL: 'C0INBOX' });
    expect(await conversations.record('evt_unit_1', message)).toBe('recorded');
    expect(await conversations.record('evt_unit_1', message)).toBe('duplicate');
    expect(await conversations.record('evt_unit_2', message)).toBe('recorded');
    await conversations.apply('evt_unit_1');
    await conversations.apply('evt_unit_2');
    await background.idle();

    expect(posts.posted).toEqual([
      { target: { kind: 'inbox', channel: 'C0INBOX', deviceName: expect.any(String) }, message },
    ]);
    expect(outcomes).toEqual(['inbox', 'duplicate']);
    const first = await store.get<InboundEntry>('webhook:evt_unit_1');
    expect(first).toMatchObject({ kind: 'inbound', state: 'posted' });
    expect(first).not.toHaveProperty('message'); // no number, no text kept once posted
    expect(await store.get<InboundEntry>('webhook:evt_unit_2')).toMatchObject({ state: 'duplicate' });
    expect(await store.pendingList('inbound:pending')).toEqual([]);
    await store.close();
  });

  it("takes its lane's lock and releases it in one store call each", async () => {
    const calls: string[] = [];
    const { store, conversations, background } = await wired({ INBOX_CHANNEL: 'C0INBOX' }, calls);
    await conversations.record('evt_unit_4', { ...message, messageId: 'wamid_unit_4' });
    await conversations.apply('evt_unit_4');
    await background.idle();
    const lockCalls = calls.filter((call) => call.includes('inbound-lock:'));
    expect(lockCalls.map((call) => call.split(' ')[0])).toEqual(['claim', 'deleteIf']);
    expect(await store.get(lockCalls[0]?.split(' ')[1] as string)).toBeUndefined();
    await store.close();
  });

  it('is posted nowhere without INBOX_CHANNEL, and counted as unrouted; the sweep finds nothing left', async () => {
    const { store, posts, outcomes, conversations, background } = await wired({});
    await conversations.record('evt_unit_3', { ...message, messageId: 'wamid_unit_3' });
    conversations.applyInBackground('evt_unit_3');
    await background.idle();

    expect(posts.posted).toEqual([]);
    expect(outcomes).toEqual(['unrouted']);
    expect(await store.get<InboundEntry>('webhook:evt_unit_3')).toMatchObject({ state: 'unrouted' });
    expect(await conversations.resume()).toBe(0);
    await store.close();
  });
});
