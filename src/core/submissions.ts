import { derivedUuid } from './idempotency.js';
import type { Store } from './ports.js';
import { RECORD_TTL_MS } from './store-keys.js';

/** What a second submission of a form found: the first ('new'), the same request again, or a different one. */
export type SubmissionClaim = 'new' | 'same' | 'different';

/**
 * One claim per form submission, holding a fingerprint of what it asked for. A resubmission of the
 * same form (Slack's 3 seconds missed, the form edited meanwhile) that asks for something else is
 * refused, so one form can never start two different sends (a single send and a group use
 * different keys). 'same' carries on: requests are idempotent, and that repairs a crash in between.
 */
export async function claimSubmission(
  store: Pick<Store, 'claim'>,
  teamId: string,
  formId: string,
  asked: object,
): Promise<SubmissionClaim> {
  const fingerprint = derivedUuid('submission-content', JSON.stringify(asked));
  const claim = await store.claim(
    `submission:${derivedUuid('submission', teamId, formId)}`,
    fingerprint,
    RECORD_TTL_MS,
  );
  if (claim.claimed) return 'new';
  return claim.value === fingerprint ? 'same' : 'different';
}
