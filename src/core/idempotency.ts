import { createHash } from 'node:crypto';

/**
 * A UUID-formatted SHA-256 of the parts, so the same interaction always yields the same key.
 * The parts are length-prefixed so that ('ab','c') and ('a','bc') never collide.
 */
export function derivedUuid(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:${part}`);
  const hex = hash.digest('hex').slice(0, 32).split('');
  hex[12] = '8'; // RFC 9562 version 8: custom, name-based
  hex[16] = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16); // RFC 4122 variant
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The key of a send started by submitting a form: one per origin (an id the chat platform keeps for the form's
 * life), whatever the retries. The first part reads 'view' because keys already stored were derived with it.
 */
export function keyForOrigin(teamId: string, originId: string): string {
  return derivedUuid('view', teamId, originId);
}

/**
 * The key of a send started by a Retry on a posted message: one per message, action and attempt. The first part
 * reads 'action' because keys already stored were derived with it.
 */
export function keyForRetry(
  teamId: string,
  conversationId: string,
  messageId: string,
  actionId: string,
  attempt: number,
): string {
  return derivedUuid('action', teamId, conversationId, messageId, actionId, String(attempt));
}

/**
 * The key of a send started by a workflow step: one per function execution (Slack's id for this run of the step),
 * so a redelivered step event finds the send it claimed the first time and never sends again.
 */
export function keyForWorkflowStep(teamId: string, executionId: string): string {
  return derivedUuid('workflow-step', teamId, executionId);
}
