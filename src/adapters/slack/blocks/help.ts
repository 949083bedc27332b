/** The `/whatsapp help` text (ephemeral). */
export function helpText(command: string, problem?: string): string {
  return [
    ...(problem ? [problem, ''] : []),
    '*Send WhatsApp messages through WAPing*',
    `• \`${command} send\` opens a form: recipient, device and message. Nothing is sent before you press *Send*.`,
    `• \`${command} send +14155552671 Your order is ready\` opens the same form, filled in for review.`,
    `• \`${command} help\` shows this.`,
    'Each send posts a message here that follows it: queued, then delivery updates. A failed send has a *Retry* button.',
  ].join('\n');
}
