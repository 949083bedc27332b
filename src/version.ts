import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: this file is src/version.ts under tsx and dist/version.js when compiled. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

let cached: string | undefined;

/** The commit the running code was built from: `COMMIT` beside package.json (written by the Docker build), else git. */
function commit(): string | undefined {
  try {
    const written = join(root, 'COMMIT');
    if (existsSync(written)) return readFileSync(written, 'utf8').trim().slice(0, 12) || undefined;
    if (!existsSync(join(root, '.git'))) return undefined;
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: root,
      timeout: 2_000,
      stdio: ['ignore', 'pipe', 'ignore'],
      encoding: 'utf8',
    });
    return head.trim() || undefined;
  } catch {
    // Never fatal: a version without its commit is still a version.
    return undefined;
  }
}

/**
 * The running bot's version: package.json's, plus `+g<commit>` when the commit is known (e.g. `0.1.0+g1a2b3c4d5e6f`).
 * The `g` (as in `git describe`) keeps an all-digit commit from reading as a phone number to the log checks.
 */
export function version(): string {
  if (cached === undefined) {
    let base = 'unknown';
    try {
      base = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? base;
    } catch {
      // A missing package.json (an unusual deployment) is not worth failing the start for.
    }
    const sha = commit();
    cached = sha ? `${base}+g${sha}` : base;
  }
  return cached;
}
