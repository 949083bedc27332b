import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const ROOT = resolve(import.meta.dirname, '..');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

const tempDir = mkdtempSync(join(tmpdir(), 'waping-config-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

let files = 0;
/** Write a CONFIG_FILE into the temp folder and return its path. */
function configFile(extension: 'yaml' | 'yml' | 'json', text: string): string {
  const path = join(tempDir, `config-${++files}.${extension}`);
  writeFileSync(path, text);
  return path;
}

/** A complete HTTP-mode environment against a real WAPing. */
const validEnv = {
  SLACK_BOT_TOKEN: 'xoxb-1234-abcd',
  SLACK_SIGNING_SECRET: 'signing-secret',
  WAPING_API_URL: 'https://api.waping.example',
  WAPING_API_KEY: 'waping-key',
  WAPING_WEBHOOK_SECRET: 'whsec_one, whsec_two',
  STORE_URL: 'redis://127.0.0.1:6379',
  DATA_DIR: '/var/lib/bot',
  PORT: '8080',
  DEFAULT_COUNTRY: 'de',
  LOG_LEVEL: 'warn',
  SEND_LEASE_MS: '30000',
};

/** The ConfigError that loading `env` throws; fails the test when it loads. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig', () => {
  it('parses a valid environment into a typed, frozen configuration', () => {
    const config = loadConfig(validEnv);
    expect(config).toMatchObject({
      slack: { botToken: 'xoxb-1234-abcd', signingSecret: 'signing-secret', appToken: undefined },
      waping: {
        sandbox: false,
        apiUrl: 'https://api.waping.example',
        apiKey: 'waping-key',
        webhookSecrets: ['whsec_one', 'whsec_two'],
        timeoutMs: 10_000,
      },
      store: { url: 'redis://127.0.0.1:6379', dataDir: '/var/lib/bot' },
      port: 8080,
      defaultCountry: 'DE',
      logLevel: 'warn',
      timing: { sendLeaseMs: 30_000, sweepIntervalMs: 15_000, deviceCacheMs: 30_000 },
      file: { devices: [], access: { users: [], userGroups: [], channels: [] } },
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('names WAPING_API_URL and WAPING_API_KEY together when both are missing without the sandbox', () => {
    const { message } = configError({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret' });
    expect(message).toContain('WAPING_API_URL');
    expect(message).toContain('WAPING_API_KEY');
  });

  it('names SLACK_BOT_TOKEN and the missing WAPing variables in one error', () => {
    const { message } = configError({ SLACK_SIGNING_SECRET: 'secret' });
    for (const name of ['SLACK_BOT_TOKEN', 'WAPING_API_URL', 'WAPING_API_KEY']) expect(message).toContain(name);
  });

  it('throws one ConfigError naming every malformed variable', () => {
    const { message } = configError({ ...validEnv, SLACK_BOT_TOKEN: 'xoxp-user', PORT: '70000', LOG_LEVEL: 'loud' });
    expect(message).toContain('SLACK_BOT_TOKEN');
    expect(message).toContain('PORT');
    expect(message).toContain('LOG_LEVEL');
    expect(message).not.toContain('WAPING_API_URL');
  });

  it('needs no WAPing URL or key when WAPING_SANDBOX=true', () => {
    const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret', WAPING_SANDBOX: 'true' });
    expect(config.waping.sandbox).toBe(true);
    expect(config.waping.apiUrl).toBeUndefined();
  });

  it('needs no signing secret in Socket Mode, and an xapp- token for it', () => {
    const socket = loadConfig({ ...validEnv, SLACK_SIGNING_SECRET: undefined, SLACK_APP_TOKEN: 'xapp-1-abc' });
    expect(socket.slack.appToken).toBe('xapp-1-abc');
    expect(configError({ ...validEnv, SLACK_SIGNING_SECRET: undefined }).message).toContain('SLACK_SIGNING_SECRET');
    expect(configError({ ...validEnv, SLACK_APP_TOKEN: 'xoxb-wrong' }).message).toContain('SLACK_APP_TOKEN');
  });

  it('refuses a send lease that a slow WAPing attempt could outlast', () => {
    const { message } = configError({ ...validEnv, SEND_LEASE_MS: '15000', WAPING_TIMEOUT_MS: '10000' });
    expect(message).toContain('SEND_LEASE_MS');
  });

  it('names a DEFAULT_COUNTRY that is not an ISO 3166 country', () => {
    const { message } = configError({ ...validEnv, DEFAULT_COUNTRY: 'ZZ' });
    expect(message).toMatch(/DEFAULT_COUNTRY: .*ISO 3166/);
  });

  it.each(['http', '-1', '65536', '80.5'])('names PORT=%s as malformed', (port) => {
    expect(configError({ ...validEnv, PORT: port }).message).toContain('PORT');
  });

  it('reads INBOX_CHANNEL as a channel id, unset by default', () => {
    expect(loadConfig(validEnv).inboxChannel).toBeUndefined();
    expect(loadConfig({ ...validEnv, INBOX_CHANNEL: 'C0INBOX' }).inboxChannel).toBe('C0INBOX');
    expect(configError({ ...validEnv, INBOX_CHANNEL: '#inbox' }).message).toContain('INBOX_CHANNEL');
  });

  // process.loadEnvFile keeps `NAME=` as '', and .env.example leaves every optional variable that way: this is the
  // README's `cp -n .env.example .env && npm start`.
  it('accepts .env.example as shipped, empty values meaning unset', () => {
    const shipped = parseEnv(readFileSync(join(ROOT, '.env.example'), 'utf8'));
    const config = loadConfig(shipped);
    expect(config.waping.sandbox).toBe(true);
    expect(config.waping.timeoutMs).toBe(10_000);
    expect(config.port).toBe(3000);
  });

  describe('with a CONFIG_FILE', () => {
    const sandboxEnv = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret', WAPING_SANDBOX: 'true' };
    const expected = {
      defaultDevice: 'dev_support',
      devices: [
        { id: 'dev_support', name: 'Support line' },
        { id: 'dev_sales', name: 'Sales' },
      ],
      access: { users: ['U0ALICE', 'W0BOB'], userGroups: ['S0OPS'], channels: ['C0SUPPORT'] },
    };

    it('reads devices, the default device and the access lists from YAML', () => {
      const path = configFile(
        'yaml',
        [
          'defaultDevice: dev_support',
          'devices:',
          '  - id: dev_support',
          '    name: Support line',
          '  - { id: dev_sales, name: Sales }',
          'access:',
          '  users: [U0ALICE, W0BOB]',
          '  userGroups: [S0OPS]',
          '  channels: [C0SUPPORT]',
        ].join('\n'),
      );
      expect(loadConfig({ ...sandboxEnv, CONFIG_FILE: path }).file).toMatchObject(expected);
    });

    it('reads the same file written as JSON', () => {
      const path = configFile('json', JSON.stringify(expected));
      expect(loadConfig({ ...sandboxEnv, CONFIG_FILE: path }).file).toMatchObject(expected);
    });

    it('treats an empty file as "no devices configured, everyone may send"', () => {
      const path = configFile('yml', '');
      const { file } = loadConfig({ ...sandboxEnv, CONFIG_FILE: path });
      expect(file.defaultDevice).toBeUndefined();
      expect(file).toMatchObject({
        devices: [],
        access: { users: [], userGroups: [], channels: [] },
      });
    });

    it('rejects an unknown key, naming it', () => {
      const path = configFile('yaml', 'defaultDevice: dev_support\nacess:\n  users: [U0ALICE]\n');
      const { message } = configError({ ...sandboxEnv, CONFIG_FILE: path });
      expect(message).toContain(path);
      expect(message).toContain('acess');
    });

    it('rejects a user id that is not a Slack user id, naming where it is', () => {
      const path = configFile('json', JSON.stringify({ access: { users: ['U0ALICE', 'alice@example.com'] } }));
      const { message } = configError({ ...sandboxEnv, CONFIG_FILE: path });
      expect(message).toContain('access.users.1');
    });

    it('reads the admins (users who see everyone in their Home), none by default, and names a bad id', () => {
      const path = configFile('yaml', 'admins: [U0OPS, W0LEAD]\n');
      expect(loadConfig({ ...sandboxEnv, CONFIG_FILE: path }).file.admins).toEqual(['U0OPS', 'W0LEAD']);
      expect(loadConfig({ ...sandboxEnv, CONFIG_FILE: configFile('yml', '') }).file.admins).toEqual([]);
      const { message } = configError({ ...sandboxEnv, CONFIG_FILE: configFile('yaml', 'admins: [S0GROUP]\n') });
      expect(message).toContain('admins.0');
    });

    it('rejects a defaultDevice that is not among the devices', () => {
      const path = configFile('yaml', 'defaultDevice: dev_gone\ndevices:\n  - { id: dev_support, name: Support }\n');
      const { message } = configError({ ...sandboxEnv, CONFIG_FILE: path });
      expect(message).toContain('defaultDevice');
    });

    it('reads the approval policy: per device, per channel, team sends, limits and expiry', () => {
      const path = configFile(
        'yaml',
        [
          'defaultDevice: dev_support',
          'devices:',
          '  - id: dev_support',
          '    name: Support line',
          '    approval: { approvers: [U0LEAD, S0MANAGERS], minApprovals: 2 }',
          'channels:',
          '  C0CUSTOMERS: { approval: { approvers: [U0CAROL] } }',
          'maxRecipients: 20',
          'maxRecipientsWithoutApproval: 3',
          'approval:',
          '  teamSends: { approvers: [U0CAROL], minApprovals: 1 }',
          '  expiresAfter: 90m',
        ].join('\n'),
      );
      const { file } = loadConfig({ ...sandboxEnv, CONFIG_FILE: path });
      expect(file.devices[0]?.approval).toEqual({ approvers: ['U0LEAD', 'S0MANAGERS'], minApprovals: 2 });
      expect(file.channels.C0CUSTOMERS?.approval).toEqual({ approvers: ['U0CAROL'], minApprovals: 1 });
      expect(file).toMatchObject({ maxRecipients: 20, maxRecipientsWithoutApproval: 3 });
      expect(file.approval).toEqual({
        teamSends: { approvers: ['U0CAROL'], minApprovals: 1 },
        expiresAfter: 90 * 60_000,
      });
    });

    it('defaults to 50 recipients, approval past one, and 24 hours before a request expires', () => {
      const { file } = loadConfig({ ...sandboxEnv, CONFIG_FILE: configFile('yml', '') });
      expect(file).toMatchObject({ maxRecipients: 50, maxRecipientsWithoutApproval: 1 });
      expect(file.approval.expiresAfter).toBe(24 * 3_600_000);
    });

    it.each([
      [
        'an approver that is not a Slack id',
        { devices: [{ id: 'd', name: 'D', approval: { approvers: ['carol'] } }] },
        'devices.0.approval.approvers.0',
      ],
      [
        'more approvals than listed approvers',
        { devices: [{ id: 'd', name: 'D', approval: { approvers: ['U0A'], minApprovals: 2 } }] },
        'devices.0.approval.minApprovals',
      ],
      ['an empty approver list', { approval: { teamSends: { approvers: [] } } }, 'approval.teamSends.approvers'],
      ['an expiry without a unit', { approval: { expiresAfter: '24' } }, 'approval.expiresAfter'],
      ['an unknown approval key', { devices: [{ id: 'd', name: 'D', approval: { approver: ['U0A'] } }] }, 'approver'],
    ])('rejects %s, naming the key', (_name, content, key) => {
      const { message } = configError({ ...sandboxEnv, CONFIG_FILE: configFile('json', JSON.stringify(content)) });
      expect(message).toContain(key);
    });

    it('reads conversations: the window (7 days unless set), and the channels where they are off', () => {
      const defaults = loadConfig({ ...sandboxEnv, CONFIG_FILE: configFile('yml', '') }).file;
      expect(defaults.conversationWindow).toBe(7 * 86_400_000);
      const path = configFile(
        'yaml',
        [
          'conversationWindow: 48h',
          'channels:',
          '  C0QUIET: { conversations: false }',
          '  C0LOUD: { conversations: true }',
        ].join('\n'),
      );
      const { file } = loadConfig({ ...sandboxEnv, CONFIG_FILE: path });
      expect(file.conversationWindow).toBe(48 * 3_600_000);
      expect(file.channels.C0QUIET?.conversations).toBe(false);
      expect(file.channels.C0LOUD?.conversations).toBe(true);
    });

    it('names a malformed conversation window, and a conversations switch that is not true or false', () => {
      const path = configFile(
        'json',
        JSON.stringify({ conversationWindow: 'a week', channels: { C0X: { conversations: 'no' } } }),
      );
      const { message } = configError({ ...sandboxEnv, CONFIG_FILE: path });
      expect(message).toContain('conversationWindow');
      expect(message).toContain('channels.C0X.conversations');
    });

    it('names the path of a file that cannot be read', () => {
      const path = join(tempDir, 'does-not-exist.yaml');
      const { message } = configError({ ...sandboxEnv, CONFIG_FILE: path });
      expect(message).toContain(path);
      expect(message).toContain('ENOENT');
    });

    it('names the path of a file that is not valid YAML', () => {
      const path = configFile('yaml', 'devices: [\n');
      expect(configError({ ...sandboxEnv, CONFIG_FILE: path }).message).toMatch(/not valid YAML/);
    });
  });
});

describe('src/main.ts', () => {
  it('exits with code 78 and names the missing variable when started with an empty environment', async () => {
    const cwd = mkdtempSync(join(tempDir, 'cwd-'));
    const child = spawn(process.execPath, ['--import', TSX_LOADER, join(ROOT, 'src/main.ts')], {
      cwd,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const code = await new Promise<number | null>((done) => child.once('exit', (exitCode) => done(exitCode)));
    expect(code).toBe(78);
    expect(output).toContain('SLACK_BOT_TOKEN');
    expect(output).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });
});
