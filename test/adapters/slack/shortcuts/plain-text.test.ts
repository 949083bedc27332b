import { describe, expect, it } from 'vitest';
import { plainText } from '../../../../src/adapters/slack/shortcuts/plain-text.js';

/** Names as users.info would give them; anyone else is unknown. */
const names: Record<string, string> = { U0BOB: 'Bob', W0ANA: 'Ana & Co <3' };
const nameOf = async (id: string) => names[id];

describe('a Slack message as plain text (the message shortcut)', () => {
  it.each([
    ['<@U0BOB> and <@W0ANA>', '@Bob and @Ana & Co <3'], // a name is never read as markup
    ['<@U0BOB|bob.old>', '@Bob'], // the current name wins over the legacy label
    ['<@U0NOBODY>', '@U0NOBODY'], // unknown: the id, nothing lost
    ['<#C0GENERAL|general> <#C0BARE>', '#general #C0BARE'],
    ['<!subteam^S0OPS|@ops> <!subteam^S0BARE>', '@ops @S0BARE'],
    ['<!here> <!channel> <!everyone|everyone>', '@here @channel @everyone'],
    ['<https://a.example/x?y=1&amp;z=2|the page> <https://b.example>', 'https://a.example/x?y=1&z=2 https://b.example'],
    ['<mailto:a@b.example|a@b.example>', 'a@b.example'],
    ['<!date^1795700000^{date_short}|Nov 26, 2026>', 'Nov 26, 2026'],
    ['a &amp;lt; b &lt;&gt; c &amp; d', 'a &lt; b <> c & d'], // each entity decoded once
    ['*bold* _it_ ~no~ `code` :wave:', '*bold* _it_ ~no~ `code` :wave:'], // typed characters stay as typed
  ])('%s', async (slack, plain) => {
    expect(await plainText(slack, nameOf)).toBe(plain);
  });

  it('asks for each mentioned person once', async () => {
    const asked: string[] = [];
    await plainText('<@U0BOB> <@U0BOB> <@W0ANA>', async (id) => {
      asked.push(id);
      return names[id];
    });
    expect(asked.sort()).toEqual(['U0BOB', 'W0ANA']);
  });
});
