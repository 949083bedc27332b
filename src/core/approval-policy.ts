import type { ApprovalRule } from './send-group.js';

/** When a send needs a second person: per device, per channel, and past a number of recipients. */
export interface ApprovalPolicy {
  devices: Record<string, ApprovalRule>;
  channels: Record<string, ApprovalRule>;
  /** Who approves sends to more than `maxRecipientsWithoutApproval` recipients. */
  teamSends?: ApprovalRule;
  maxRecipients: number;
  maxRecipientsWithoutApproval: number;
  expiresAfterMs: number;
}

export type RuleCheck = { needed: false } | { needed: true; rule: ApprovalRule } | { needed: true; rule: undefined };

/**
 * The approval a send needs, if any. When several rules apply (a shared device, a channel, many
 * recipients), their approvers are pooled and the highest `minApprovals` counts. `rule: undefined`
 * means approval is needed but nobody is configured to give it.
 */
export function approvalNeeded(
  policy: ApprovalPolicy,
  send: { deviceId: string; channelId: string; recipients: number },
): RuleCheck {
  const many = send.recipients > policy.maxRecipientsWithoutApproval;
  const rules = [ownRule(policy.devices, send.deviceId), ownRule(policy.channels, send.channelId)];
  if (many) rules.push(policy.teamSends);
  const applying = rules.filter((rule): rule is ApprovalRule => rule !== undefined);
  if (applying.length === 0) return many ? { needed: true, rule: undefined } : { needed: false };
  return {
    needed: true,
    rule: {
      approvers: [...new Set(applying.flatMap((rule) => rule.approvers))],
      minApprovals: Math.max(...applying.map((rule) => rule.minApprovals)),
    },
  };
}

/**
 * The rule configured for an id. Ids come from the chat platform and from the form: `constructor` or `__proto__` must find
 * nothing, not a member every object inherits.
 */
function ownRule(rules: Readonly<Record<string, ApprovalRule>>, id: string): ApprovalRule | undefined {
  return Object.hasOwn(rules, id) ? rules[id] : undefined;
}
