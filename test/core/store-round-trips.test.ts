import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/adapters/store/create-store.js';
import type { DeliveryEvent } from '../../src/core/deliveries.js';
import { sendKey } from '../../src/core/send-record.js';
import { sendDraft } from '../../src/core/send-records.js';
import { webhookKey } from '../../src/core/store-keys.js';
import { FakeWaping } from '../support/fake-waping.js';
import { ManualClock, RecordingNotifier, SHORT_SEND_POLICY, sendGroupFixture } from '../support/fakes.js';
import { wireTestServices } from '../support/services.js';
import { notingCalls } from '../support/store-calls.js';

/*
 * What one send and one webhook cost in store calls (each a round trip on Redis), counted over the memory store:
 * `npm run bench` measures the time; this keeps the reads that were found redundant from coming back.
 */
describe('store round trips', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'waping-round-trips-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function wired() {
    const backend = await createStore({ url: 'memory://', dataDir });
    const calls: string[] = [];
    const clock = new ManualClock();
    const services = wireTestServices({
      store: notingCalls(backend, calls),
      waping: new FakeWaping({ clock }),
      notifier: new RecordingNotifier(),
      clock,
      sendPolicy: SHORT_SEND_POLICY,
    });
    return { backend, calls, services };
  }

  it('a send, from its claim to its message showing WAPing’s answer, reads its record twice at most', async () => {
    const { backend, calls, services } = await wired();
    // The request of the usual fixture's group, sent to one of its recipients as a send of its own.
    const draft = sendDraft(sendGroupFixture(), '+14155550123', {
      key: 'k-round-trips',
      origin: { kind: 'view', viewId: 'V0RT' },
    });
    const claim = await services.sends.request(draft);
    expect(claim.accepted).toBe(true);
    services.sends.deliverInBackground(draft.key, claim.send);
    await services.idle();
    const made = [...calls];
    expect((await services.sends.get(draft.key))?.state).toBe('accepted');
    // Before: eight reads of the record besides its changes (the settle's look-up of its message, the settled record
    // read back, the conversation's look-up through the message id, the catch-up's re-read, the Home's after the
    // render, the Home's when it was claimed). Now: the message sync reads it once to render it (never a copy: another
    // sync may have shown newer news meanwhile) and once after its lock is released, to see whether anything changed.
    const reads = made.filter((call) => call === `get ${sendKey(draft.key)}`);
    expect(reads.length).toBeLessThanOrEqual(2);
    expect(made.filter((call) => call.startsWith('get message:'))).toEqual([]);
    // Its changes: the parent message saved (with the lease renewed), settled, rendered. The claim wrote the lease,
    // so the delivery does not take it again first.
    expect(made.filter((call) => call === `update ${sendKey(draft.key)}`)).toHaveLength(3);
    // The message is marked behind once per change, not again by the sync that follows the change.
    expect(made.filter((call) => call === 'pendingAdd sync:behind')).toHaveLength(1);
    // A send from a form has no workflow step waiting for it: none is looked up.
    expect(made.filter((call) => call.startsWith('get step-of:'))).toEqual([]);
    await backend.close();
  });

  it('an event for an unknown message is parked without reading back what the webhook just recorded', async () => {
    const { backend, calls, services } = await wired();
    const event: DeliveryEvent = { kind: 'message', messageId: 'msg_unknown_rt', status: 'delivered', at: 1 };
    expect(await services.deliveries.record('evt_rt_1', event)).toBe('recorded');
    services.deliveries.applyInBackground('evt_rt_1');
    await services.idle();
    expect(calls.filter((call) => call === `get ${webhookKey('evt_rt_1')}`)).toEqual([]);
    // A new message's parked list and a free place in the ring are each one claim, not a read and a write.
    expect(calls.filter((call) => call.startsWith('update parking:'))).toEqual([]);
    expect(calls.filter((call) => call.startsWith('claim parking:'))).toHaveLength(2);
    // The next apply (a sweep's) finds it parked, from the store.
    await services.deliveries.apply('evt_rt_1');
    expect(calls.filter((call) => call === `get ${webhookKey('evt_rt_1')}`)).toHaveLength(1);
    await backend.close();
  });
});
