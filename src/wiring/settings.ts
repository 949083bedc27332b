import type { Config } from '../config.js';
import type { ApprovalPolicy } from '../core/approval-policy.js';
import type { ReplyMode } from '../core/delivery-status.js';
import type { MediaLinks } from '../core/media-links.js';

/*
 * CONFIG_FILE's settings in the core's terms, for wireServices.
 */

/** The approval rules of CONFIG_FILE, in the core's terms. */
export function approvalPolicyOf(config: Readonly<Config>): ApprovalPolicy {
  const { file } = config;
  const devices = Object.fromEntries(file.devices.flatMap((d) => (d.approval ? [[d.id, d.approval]] : [])));
  const channels = Object.fromEntries(
    Object.entries(file.channels).flatMap(([id, c]) => (c.approval ? [[id, c.approval]] : [])),
  );
  return {
    devices,
    channels,
    teamSends: file.approval.teamSends,
    maxRecipients: file.maxRecipients,
    maxRecipientsWithoutApproval: file.maxRecipientsWithoutApproval,
    expiresAfterMs: file.approval.expiresAfter,
  };
}

/** Which status changes get a thread reply in a channel: the channel's own setting, else the file's. */
export function replyModeOf(config: Readonly<Config>): (channelId: string) => ReplyMode {
  const { channels, statusReplies } = config.file;
  return (channelId) =>
    (Object.hasOwn(channels, channelId) ? channels[channelId]?.statusReplies : undefined) ?? statusReplies;
}

/** Where attached files are served from, in the core's terms; undefined without PUBLIC_URL (https URLs only). */
export function mediaLinksOf(config: Readonly<Config>): MediaLinks | undefined {
  const { publicUrl, secret } = config.media;
  return publicUrl ? { publicUrl, secret } : undefined;
}
