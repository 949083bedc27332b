import type { CountryCode } from 'libphonenumber-js';
import { type AccessPolicy, maySend, type UserGroupDirectory } from './access.js';
import { type ApprovalPolicy, approvalNeeded } from './approval-policy.js';
import type { DeviceDirectory } from './devices.js';
import { keyForOrigin, keyForWorkflowStep } from './idempotency.js';
import type { Store } from './ports.js';
import type { RecentEntry, RecentSend, RecentSends } from './recent-sends.js';
import type { SendDelivery } from './send-delivery.js';
import {
  type CheckedRecipients,
  checkRecipients,
  checkSendForm,
  type SendForm,
  type SendFormErrors,
} from './send-form.js';
import type { ApprovalRule, SendGroup } from './send-group.js';
import { type GroupDraft, groupIdForOrigin, idempotencyKeyForGroupRecipient, type SendGroups } from './send-groups.js';
import type { SendOrigin, SendRecord } from './send-record.js';
import { type SendRequestParts, sendDraft } from './send-records.js';
import { claimSubmission, submissionClaim } from './submissions.js';

/** One submitted send form, in the core's terms: what was typed, who asked, from where. */
export interface SendRequestInput {
  form: SendForm;
  teamId: string;
  requestedBy: string;
  /** The conversation the command ran in. */
  channelId: string;
  /** Where to answer the requester privately, when the chat platform gives one. */
  responseUrl?: string;
  /** An id the chat platform keeps for the form's whole life: the send's key and the group's id derive from it. */
  originId: string;
  /** What asked: a form (the default) or a workflow step, whose `originId` is the step's execution id. */
  source?: 'form' | 'workflow-step';
  /** The person confirmed sending a text that went to the same number a few minutes ago ("Send it again"). */
  sendAgain?: boolean;
}

/**
 * What became of a submission, as a code with its data; the chat adapter words it. Nothing is claimed for the
 * first six; `sending`, `duplicate` and `group` follow a claim, so the adapter may acknowledge then `carryOn`.
 */
export type SendRequestOutcome =
  | { kind: 'invalid'; errors: SendFormErrors }
  | { kind: 'refused' }
  /** More than `limit` recipients need an approver, and none is configured. */
  | { kind: 'needs-approver'; limit: number }
  /** The chat platform could not show the text and every recipient in full (`problem`, in its words). */
  | { kind: 'too-long-to-show'; problem: string; recipients: number; approvalNeeded: boolean }
  /** The same text went to some of these numbers in the last minutes, and the person has not confirmed it. */
  | { kind: 'recently-sent'; sends: RecentSend[] }
  /** The same form was submitted before asking for other recipients, device or text. */
  | { kind: 'different-resubmission' }
  | { kind: 'sending'; send: SendRecord }
  /** The form's send was claimed before: nothing is sent again. */
  | { kind: 'duplicate'; send: SendRecord }
  /** Several recipients, or approval needed: one group, `accepted` unless claimed before. */
  | { kind: 'group'; group: SendGroup; accepted: boolean };

/**
 * Why the chat platform could not show a group (its message and its approval form) in full, within its own limits,
 * or undefined when it can. Supplied by the chat adapter: the core knows no platform's limits.
 */
export type CannotShowInFull = (group: SendGroup) => string | undefined;

export interface SendRequestDeps {
  store: Pick<Store, 'claim'>;
  /** The sends of the last minutes by number and text, for the same-text warning. */
  recent: Pick<RecentSends, 'find' | 'entries'>;
  /** The delivery engine: claims a send, then delivers it. */
  delivery: Pick<SendDelivery, 'claim' | 'start'>;
  /** Claims and starts send groups (several recipients, or a send awaiting approval). */
  sendGroups: Pick<SendGroups, 'create' | 'startInBackground'>;
  devices: Pick<DeviceDirectory, 'list'>;
  access: AccessPolicy;
  /** Members of groups of people, for access lists that name them. */
  userGroups: UserGroupDirectory;
  approvalPolicy: ApprovalPolicy;
  defaultCountry?: CountryCode;
  cannotShowInFull: CannotShowInFull;
  /** Whether attached files can be sent: the bot serves them to WAPing from a public address. */
  filesServed?: boolean;
}

/**
 * The send use case, from a submitted form to a claimed send or group: check the form, who may send, which approval
 * it needs, that it can be shown in full, and that the form was not submitted before for something else; then claim
 * the send (one recipient, no approval) or the group. Claimed work starts only in `carryOn`, after the adapter has
 * answered the platform, so a claim is durable before anyone hears back.
 */
export class SendRequests {
  constructor(private readonly deps: SendRequestDeps) {}

  /**
   * The same-text look-up reads the store, as the device list does (each device's reported state): started before
   * that read, side by side with it, for the recipients and text the form check will find. Undefined when no
   * look-up will be made; a failure is left for `find` to throw, should the form get that far.
   */
  private readSameText(
    input: SendRequestInput,
    typed: CheckedRecipients,
  ): Promise<Array<RecentEntry | undefined>> | undefined {
    const { deps } = this;
    if (input.sendAgain || input.form.media || !typed.ok) return undefined;
    const read = deps.recent.entries(input.teamId, typed.to, input.form.text);
    read.catch(() => {}); // not awaited when the form is refused
    return read;
  }

  async submit(input: SendRequestInput): Promise<SendRequestOutcome> {
    const { deps } = this;
    const { maxRecipients } = deps.approvalPolicy;
    const typed = checkRecipients(input.form.recipient, maxRecipients, deps.defaultCountry);
    const sameText = this.readSameText(input, typed);
    const devices = await deps.devices.list();
    const checked = checkSendForm(input.form, devices, deps.defaultCountry, maxRecipients, deps.filesServed, typed);
    if (!checked.ok) return { kind: 'invalid', errors: checked.errors };
    if (!(await maySend(deps.access, deps.userGroups, input.requestedBy, input.channelId))) return { kind: 'refused' };
    const approval = approvalNeeded(deps.approvalPolicy, {
      deviceId: checked.device.id,
      channelId: input.channelId,
      recipients: checked.to.length,
    });
    if (approval.needed && !approval.rule) {
      return { kind: 'needs-approver', limit: deps.approvalPolicy.maxRecipientsWithoutApproval };
    }
    const rule = approval.needed ? approval.rule : undefined;
    const request: SendRequestParts = {
      teamId: input.teamId,
      requestedBy: input.requestedBy,
      channelId: input.channelId,
      responseUrl: input.responseUrl,
      deviceId: checked.device.id,
      deviceName: checked.device.name,
      text: checked.text,
      ...(checked.media ? { media: checked.media } : {}),
    };
    const grouped = approval.needed || checked.to.length > 1;
    const group: GroupDraft = {
      ...request,
      id: groupIdForOrigin(input.teamId, input.originId),
      recipients: checked.to,
    };
    if (grouped) {
      // The approvers must see the whole text and every recipient: refuse here what could not be shown.
      const problem = deps.cannotShowInFull(preview(group, rule));
      if (problem) {
        return { kind: 'too-long-to-show', problem, recipients: checked.to.length, approvalNeeded: approval.needed };
      }
    }
    const key = input.source === 'workflow-step' ? keyForWorkflowStep : keyForOrigin;
    const ownKey = (to: string) =>
      grouped ? idempotencyKeyForGroupRecipient(input.teamId, group.id, to) : key(input.teamId, input.originId);
    // The same-text warning is about texts: a media send skips it, since the form shown again could not keep the file.
    if (!input.sendAgain && !checked.media) {
      const sends = await deps.recent.find(input.teamId, checked.to, checked.text, ownKey, sameText);
      if (sends.length > 0) return { kind: 'recently-sent', sends };
    }
    const media = checked.media && (checked.media.source === 'file' ? checked.media.file.fileId : checked.media.url);
    const asked = {
      to: checked.to,
      device: checked.device.id,
      text: checked.text,
      approval: approval.needed,
      // Only present for media, so that text forms keep the fingerprints they had.
      ...(media ? { media } : {}),
    };
    if (!grouped) {
      const to = checked.to[0] as string;
      const origin: SendOrigin =
        input.source === 'workflow-step'
          ? { kind: 'step', executionId: input.originId }
          : { kind: 'form', originId: input.originId };
      const draft = sendDraft(request, to, { key: ownKey(to), origin });
      // The form's claim, the send's and its outbox entry in one round trip: the common case, a first submission.
      const first = await deps.delivery.claim(draft, [submissionClaim(input.teamId, input.originId, asked)]);
      if (first.accepted) return { kind: 'sending', send: first.send };
      // Something was claimed before: a resubmission, or (after a crash of an older version) the form's claim alone.
      if ((await claimSubmission(deps.store, input.teamId, input.originId, asked)) === 'different') {
        return { kind: 'different-resubmission' };
      }
      const claimed = await deps.delivery.claim(draft);
      return { kind: claimed.accepted ? 'sending' : 'duplicate', send: claimed.send };
    }
    if ((await claimSubmission(deps.store, input.teamId, input.originId, asked)) === 'different') {
      return { kind: 'different-resubmission' };
    }
    const created = await deps.sendGroups.create(group, rule, deps.approvalPolicy.expiresAfterMs);
    return { kind: 'group', group: created.group, accepted: created.accepted };
  }

  /** After the platform was answered: deliver a claimed send, or announce a claimed group, in the background. */
  carryOn(outcome: SendRequestOutcome): void {
    if (outcome.kind === 'sending') this.deps.delivery.start(outcome.send.key, outcome.send);
    if (outcome.kind === 'group' && outcome.accepted) this.deps.sendGroups.startInBackground(outcome.group.id);
  }
}

/** A group as it would be stored, for the show-in-full check before anything is claimed. */
function preview(group: GroupDraft, rule: ApprovalRule | undefined): SendGroup {
  return {
    ...group,
    id: 'unsent',
    keys: [],
    approval: rule ? { rule, state: 'pending', decisions: [], expiresAt: Number.MAX_SAFE_INTEGER } : undefined,
    launched: false,
    version: 1,
    renderedVersion: 1,
    createdAt: 0,
  };
}
