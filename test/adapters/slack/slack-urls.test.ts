import { describe, expect, it } from 'vitest';
import {
  ForeignUrlError,
  slackFileUrlPolicy,
  slackOnlyFetch,
  slackUrlPolicy,
} from '../../../src/adapters/slack/slack-urls.js';

describe('slackUrlPolicy: the bot follows URLs only to Slack', () => {
  const isSlack = slackUrlPolicy();

  it("accepts Slack's response_url hosts, commercial and GovSlack, and the Web API", () => {
    expect(isSlack('https://hooks.slack.com/commands/T1/2/abc')).toBe(true);
    expect(isSlack('https://hooks.slack-gov.com/commands/T1/2/abc')).toBe(true);
    expect(isSlack('https://slack.com/api/chat.postMessage')).toBe(true);
  });

  it('refuses look-alikes, plain http, credentials in the URL and unparsable strings', () => {
    expect(isSlack('https://hooks.slack.com.evil.example/commands')).toBe(false);
    expect(isSlack('https://evil.example/?u=https://hooks.slack.com')).toBe(false);
    expect(isSlack('http://hooks.slack.com/commands/T1/2/abc')).toBe(false);
    expect(isSlack('https://user:pw@hooks.slack.com/commands')).toBe(false);
    expect(isSlack('not a url')).toBe(false);
  });

  it("takes SLACK_API_URL's origin in place of slack.com", () => {
    const local = slackUrlPolicy('http://127.0.0.1:4010/api/');
    expect(local('http://127.0.0.1:4010/api/chat.update')).toBe(true);
    expect(local('https://slack.com/api/chat.update')).toBe(false);
  });

  it('slackOnlyFetch refuses a foreign URL without making the request', async () => {
    const calls: string[] = [];
    const fetchFn = (async (input: string | URL | Request) => {
      calls.push(String(input));
      return new Response('ok');
    }) as typeof fetch;
    const guarded = slackOnlyFetch(isSlack, fetchFn);
    await expect(guarded('https://evil.example/hook')).rejects.toBeInstanceOf(ForeignUrlError);
    await guarded('https://hooks.slack-gov.com/commands/T1/2/abc');
    expect(calls).toEqual(['https://hooks.slack-gov.com/commands/T1/2/abc']);
  });
});

describe("slackFileUrlPolicy: the bot token goes only to Slack's file hosts", () => {
  it("accepts Slack's file hosts, and SLACK_API_URL's origin when set", () => {
    const production = slackFileUrlPolicy();
    expect(production('https://files.slack.com/files-pri/T0-F0/download/invoice.pdf')).toBe(true);
    expect(production('https://files.slack-gov.com/files-pri/T0-F0/download/a.png')).toBe(true);
    expect(slackFileUrlPolicy('http://127.0.0.1:4000/api/')('http://127.0.0.1:4000/files-pri/F1/a.pdf')).toBe(true);
  });

  it('refuses other hosts, look-alikes, plain http and credentials', () => {
    const production = slackFileUrlPolicy();
    for (const url of [
      'https://slack.com/files-pri/F1/a.pdf',
      'https://hooks.slack.com/x',
      'https://files.slack.com.evil.example/a.pdf',
      'http://files.slack.com/a.pdf',
      'https://user:pw@files.slack.com/a.pdf',
      'not a url',
    ]) {
      expect(production(url)).toBe(false);
    }
  });
});
