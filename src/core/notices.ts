import type { ApprovalDecision, ApprovalState } from './send-group.js';
import type { SendRecord } from './send-record.js';

/*
 * What the core tells people, as typed events: the chat adapter chooses the words, emoji and plurals
 * (src/adapters/slack/wording/). Strings carried here are data the bot did not write (a comment, a device
 * name, WAPing's reason), shown literally by the adapter.
 */

/** A private note to one person. */
export type Notice =
  /** A group request ended without sending anything: rejected by an approver, or expired. */
  | { kind: 'group-ended'; state: 'rejected' | 'expired'; recipients: number; comment?: string }
  /** A form came in again after its first submission was claimed; `send` is that first send, when there is one. */
  | { kind: 'already-submitted'; send?: SendRecord };

/** A line in the thread of a group's message. */
export type ThreadNote = { kind: 'approval-decision'; decision: ApprovalDecision };

/** An operational alert for the ops channel: a device's session changed. */
export interface DeviceAlert {
  kind: 'device-session';
  /** The device's name (configured or WAPing's): foreign text. */
  deviceName: string;
  connected: boolean;
  /** Why it disconnected, in WAPing's words (foreign text), when it said. */
  reason?: string;
}

/** Why a decision on an approval request (a review, a decision, a cancel) was refused, with what wording it needs. */
export type DecisionRefusal =
  /** The request is not (or no longer) stored. */
  | { code: 'gone' }
  /** Its outcome was decided already. */
  | { code: 'already-decided'; state: ApprovalState }
  /** The requester may not approve their own request. */
  | { code: 'own-request' }
  /** Only the rule's approvers may review. */
  | { code: 'not-an-approver' }
  /** This decision found it past its deadline and expired it. */
  | { code: 'expired' }
  /** A cancel found it past its deadline (and expired it). */
  | { code: 'expired-before-cancel' }
  /** This approver has approved already; it needs another one. */
  | { code: 'approved-already' }
  /** Only the requester may cancel. */
  | { code: 'not-the-requester' }
  /** The adapter says it cannot be approved as it stands; `problem` is the adapter's own description. */
  | { code: 'unapprovable'; problem: string };

export type DecisionRefusalCode = DecisionRefusal['code'];
