/* What a person reads when the bot turns a request away before anything was claimed. */

/** Said to someone the access rules do not let send. */
export const REFUSAL =
  "Sorry, you're not on the list of people who may send WhatsApp messages from here. Ask whoever runs the bot to add you (or this channel).";

/** Said when the store does not answer before anything was claimed: nothing was sent. */
export const STORE_DOWN = "Nothing was sent: the bot can't reach its storage right now. Please try again in a minute.";

/** Said when Slack would not open the send form (`code`: Slack's error code, or "no answer"). */
export const FORM_NOT_OPENED = (code: string): string =>
  `I could not open the form (Slack said: ${code}). Please try again.`;
