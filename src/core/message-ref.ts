/**
 * Where a posted message lives, as the chat adapter names it: a conversation and the message's id in it. The core
 * only stores and hands these back; it lives apart from ports.ts so that the records holding one (sends, groups)
 * need not import the ports that hold them.
 */
export interface MessageRef {
  channel: string;
  ts: string;
}
