import { describe, expect, it } from 'vitest';
import { parseSendArguments } from '../../../../src/adapters/slack/commands/whatsapp.js';

const NUMBER = '+14155552671';
const TEXT = 'Your order is ready';

describe('parseSendArguments', () => {
  it('splits `/whatsapp send <number> <text>` into the recipient and the text', () => {
    expect(parseSendArguments(` ${NUMBER} ${TEXT}`)).toEqual({ recipient: NUMBER, text: TEXT });
  });

  it('keeps a multi-line text whole', () => {
    expect(parseSendArguments(`${NUMBER}\nLine one\nLine two`)).toEqual({
      recipient: NUMBER,
      text: 'Line one\nLine two',
    });
  });

  it('gives the recipient alone when there is no text', () => {
    expect(parseSendArguments(`  ${NUMBER}  `)).toEqual({ recipient: NUMBER, text: undefined });
  });

  it('takes everything as the text when it does not start with a number', () => {
    expect(parseSendArguments('Your order is ready')).toEqual({ text: 'Your order is ready' });
  });

  it('gives nothing to pre-fill for an empty command', () => {
    expect(parseSendArguments('   ')).toEqual({});
  });
});
