/**
 * The container files, checked without a Docker engine: what `docker run --env-file .env` gives the bot when .env
 * is .env.example as shipped, and what the build context leaves out.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config.js';

const read = (file: string) => readFileSync(resolve(import.meta.dirname, '..', file), 'utf8');

/** `docker run --env-file`: one KEY=VALUE a line, taken literally; blank lines and `#` lines skipped. */
function dockerEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const equals = line.indexOf('=');
    env[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return env;
}

/** The image's `ENV` variables (the runtime stage's, which come last). */
function imageEnv(dockerfile: string): Record<string, string> {
  const lines = dockerfile.split('\n').filter((line) => line.startsWith('ENV '));
  const last = lines.at(-1) ?? '';
  return Object.fromEntries(
    last
      .slice(4)
      .trim()
      .split(/\s+/)
      .map((pair) => pair.split('=') as [string, string]),
  );
}

describe('the container', () => {
  it("keeps the image's /data volume when run with --env-file .env made from .env.example", () => {
    const env = { ...imageEnv(read('Dockerfile')), ...dockerEnvFile(read('.env.example')) };
    const config = loadConfig(env);
    expect(config.store.dataDir).toBe('/data');
    expect(config.port).toBe(3000);
  });

  it('runs as a non-root user that owns /data, with node as the first process', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/chown node:node \/data/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
  });

  it('leaves secrets, local state and installed modules out of the build context', () => {
    const rules = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    // Everything is ignored, then only what the build copies is let back in.
    expect(rules[0]).toBe('*');
    const allowed = rules.filter((rule) => rule.startsWith('!')).map((rule) => rule.slice(1).replace(/\/$/, ''));
    for (const path of allowed) expect(['.env', 'data', 'node_modules', 'dist', '.git']).not.toContain(path);
    for (const copied of read('Dockerfile').matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of (copied[1] ?? '').split(/\s+/)) expect(allowed).toContain(source);
    }
  });

  it('runs two replicas of the bot on one Redis with compose', () => {
    const { services } = parseYaml(read('compose.yaml'));
    expect(services.bot.deploy.replicas).toBe(2);
    expect(services.bot.environment.STORE_URL).toBe('redis://redis:6379');
    expect(services.bot.depends_on.redis.condition).toBe('service_healthy');
    expect(services.redis.image).toMatch(/^redis:/);
  });
});
