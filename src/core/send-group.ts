import type { SendMedia } from './media.js';
import type { MessageRef } from './message-ref.js';

/** Who must approve a team send, and how many of them. */
export interface ApprovalRule {
  /** Slack user ids (U…) and user group ids (S…). */
  approvers: string[];
  minApprovals: number;
}

export type ApprovalState = 'pending' | 'approved' | 'rejected' | 'cancelled' | 'expired';

export interface ApprovalDecision {
  userId: string;
  decision: 'approve' | 'reject' | 'cancel' | 'expire';
  at: number;
  comment?: string;
}

/** The approval of a team send: its rule, its decisions, and the one outcome that won. */
export interface Approval {
  rule: ApprovalRule;
  state: ApprovalState;
  decisions: ApprovalDecision[];
  expiresAt: number;
  decidedAt?: number;
}

/**
 * One message to several recipients, or one that needs approval: a single Slack message (the
 * request, then the per-recipient statuses) over one send per recipient. Stored as `group:<id>`.
 */
export interface SendGroup {
  id: string;
  teamId: string;
  requestedBy: string;
  channelId: string;
  responseUrl?: string;
  deviceId: string;
  deviceName: string;
  /** The text, or the caption of `media`. */
  text: string;
  /** An image, document, audio or video sent to every recipient with `text` as its caption. */
  media?: SendMedia;
  /** E.164 numbers, in the order typed, without duplicates. */
  recipients: string[];
  /** The idempotency key of each recipient's send, derived up front, in the order of `recipients`. */
  keys: string[];
  approval?: Approval;
  /** True once every recipient's send has been claimed (after approval, or at once without one). */
  launched: boolean;
  parent?: MessageRef;
  /** How often posting the group's message was tried; the sweep gives up re-posting after a few. */
  announceAttempts?: number;
  version: number;
  renderedVersion: number;
  createdAt: number;
}

export { groupKey } from './store-keys.js';

/** How many distinct people have approved so far. */
export function approvalsSoFar(approval: Approval): number {
  return new Set(approval.decisions.filter((d) => d.decision === 'approve').map((d) => d.userId)).size;
}
