import type { DeliveryStatus } from './send-record.js';

/** How far a message got. `failed` stands outside the ranking. */
const RANK: Record<Exclude<DeliveryStatus, 'failed'>, number> = { queued: 0, sent: 1, delivered: 2, read: 3 };

/**
 * The status policy: what a reported status does to the current one. Returns the new status, or
 * undefined when nothing visible changes.
 * - `queued < sent < delivered < read`, and a status only moves forward (`read` without `delivered` is normal).
 * - `failed` wins over `queued`/`sent`; a late `queued`/`sent` never clears it.
 * - `delivered`/`read` are proof of delivery: they win over `failed`, and a later `failed` changes nothing.
 */
export function nextStatus(current: DeliveryStatus | undefined, reported: DeliveryStatus): DeliveryStatus | undefined {
  if (current === undefined) return reported;
  if (current === reported) return undefined;
  if (reported === 'failed') return current === 'delivered' || current === 'read' ? undefined : 'failed';
  if (current === 'failed') return reported === 'delivered' || reported === 'read' ? reported : undefined;
  return RANK[reported] > RANK[current] ? reported : undefined;
}

/** Which status changes get a thread reply: every one, only final ones (delivered, read, failed), or none. */
export type ReplyMode = 'all' | 'final' | 'none';

/** Whether a status change gets its own thread reply under `mode`. */
export function wantsReply(mode: ReplyMode, status: DeliveryStatus): boolean {
  if (mode === 'none') return false;
  if (mode === 'final') return status === 'delivered' || status === 'read' || status === 'failed';
  return true;
}
