import { derivedUuid } from './idempotency.js';
import type { ClaimRequest, Store } from './ports.js';
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
  const { key, value: fingerprint, ttlMs } = submissionClaim(teamId, formId, asked);
  const claim = await store.claim(key, fingerprint, ttlMs);
  if (claim.claimed) return 'new';
  return claim.value === fingerprint ? 'same' : 'different';
}

/** The claim of one form submission, for `claimSubmission` or to be written with others in one `Store.claimAll`. */
export function submissionClaim(teamId: string, formId: string, asked: object): ClaimRequest & { value: string } {
  return {
    key: `submission:${derivedUuid('submission', teamId, formId)}`,
    value: derivedUuid('submission-content', JSON.stringify(asked)),
    ttlMs: RECORD_TTL_MS,
  };
}
