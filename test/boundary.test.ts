import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/*
 * Holds the shape docs/architecture.md describes: the core talks to the world through ports only, and one composition
 * root reads the environment. Reading the files (rather than trusting reviews) keeps it true as code moves.
 */

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const CORE = join(SRC, 'core');

/** Packages the core must never import: Slack, HTTP, store backends and logging belong to adapters. */
const FORBIDDEN_PACKAGES: Array<{ pattern: RegExp; what: string }> = [
  { pattern: /^@slack\//, what: 'Slack SDK' },
  { pattern: /^undici(\/|$)/, what: 'HTTP client' },
  { pattern: /^keyv(\/|$)/, what: 'Keyv' },
  { pattern: /^@keyv\//, what: 'Keyv adapter' },
  { pattern: /^pino(\/|$)/, what: 'logger' },
  { pattern: /^better-sqlite3(\/|$)/, what: 'SQLite driver' },
  { pattern: /^(@redis\/|redis(\/|$))/, what: 'Redis client' },
];

/** Parts of src/ that are adapters or wiring, named so a failure says which rule was broken. */
const FORBIDDEN_LOCAL = ['adapters', 'app', 'config', 'sandbox', 'wiring'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|mts|cts|js|mjs)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** Every module specifier a file names: static and type-only imports, re-exports, import() and require(). */
function specifiersOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((imported) => imported.fileName);
}

/** `src/`-relative path (without extension) that a relative specifier points at, or undefined for a package. */
function localTarget(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return relative(SRC, resolve(dirname(file), specifier))
    .split(sep)
    .join('/')
    .replace(/\.[cm]?[jt]s$/, '');
}

const coreFiles = filesUnder(CORE);

describe('the core boundary', () => {
  it('finds the core files and their imports, so the rules below cannot pass on nothing', () => {
    expect(coreFiles.map((file) => relative(SRC, file))).toContain(join('core', 'sends.ts'));
    expect(specifiersOf(join(CORE, 'send-delivery.ts'))).toContain('./backoff.js');
  });

  it('imports no Slack, HTTP, store or logging library in src/core', () => {
    const offences = coreFiles.flatMap((file) =>
      specifiersOf(file).flatMap((specifier) => {
        const rule = FORBIDDEN_PACKAGES.find(({ pattern }) => pattern.test(specifier));
        return rule ? [`${relative(ROOT, file)} imports ${specifier} (${rule.what})`] : [];
      }),
    );
    expect(offences).toEqual([]);
  });

  it('imports nothing from the adapters, the composition root, the config or the sandbox in src/core', () => {
    const offences = coreFiles.flatMap((file) =>
      specifiersOf(file).flatMap((specifier) => {
        const target = localTarget(file, specifier);
        const top = target?.split('/')[0];
        return top && FORBIDDEN_LOCAL.includes(top) ? [`${relative(ROOT, file)} imports ${specifier}`] : [];
      }),
    );
    expect(offences).toEqual([]);
  });

  it('keeps every relative import of src/core inside src/core', () => {
    const offences = coreFiles.flatMap((file) =>
      specifiersOf(file).flatMap((specifier) => {
        const target = localTarget(file, specifier);
        return target !== undefined && !target.startsWith('core/')
          ? [`${relative(ROOT, file)} imports ${specifier}`]
          : [];
      }),
    );
    expect(offences).toEqual([]);
  });
});

describe('the environment', () => {
  /** `process.env`, `process['env']` and `const { env } = process` all count as reading it. */
  const readsEnv = /\bprocess\s*(\.\s*env\b|\[\s*['"`]env['"`]\s*\])|\{[^}]*\benv\b[^}]*\}\s*=\s*process\b/;

  it('is read only by the two entry points, src/main.ts and src/sandbox/main.ts', () => {
    const readers = filesUnder(SRC)
      .filter((file) => readsEnv.test(readFileSync(file, 'utf8')))
      .map((file) => relative(SRC, file).split(sep).join('/'));
    expect(readers).toEqual(['main.ts', 'sandbox/main.ts']);
  });
});

describe('the import graph of src', () => {
  const srcFiles = filesUnder(SRC);
  const key = (file: string) =>
    relative(SRC, file)
      .split(sep)
      .join('/')
      .replace(/\.[cm]?[jt]s$/, '');

  /** Each src file (without extension) and the src files it imports, type-only imports included. */
  const graph = new Map(
    srcFiles.map((file) => [
      key(file),
      specifiersOf(file).flatMap((specifier) => {
        const target = localTarget(file, specifier);
        return target === undefined ? [] : [target];
      }),
    ]),
  );

  /** The first cycle found by depth-first search, as the chain of files that closes it. */
  function firstCycle(): string[] | undefined {
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (node: string): string[] | undefined => {
      if (state.get(node) === 'done') return undefined;
      if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
      state.set(node, 'open');
      path.push(node);
      for (const next of graph.get(node) ?? []) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
      path.pop();
      state.set(node, 'done');
      return undefined;
    };
    for (const node of graph.keys()) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
    return undefined;
  }

  it('reads the imports of every src file, so the check below cannot pass on nothing', () => {
    expect(graph.get('core/ports')).toContain('core/message-ref');
  });

  it('has no import cycle, type-only imports included', () => {
    expect(firstCycle()?.join(' -> ')).toBeUndefined();
  });
});

describe('the size of src files', () => {
  const MAX_LINES = 250;

  it(`keeps every src file at ${MAX_LINES} lines or fewer, one job per file`, () => {
    const offences = filesUnder(SRC).flatMap((file) => {
      const name = relative(SRC, file).split(sep).join('/');
      const lines = readFileSync(file, 'utf8').split('\n').length - 1;
      return lines > MAX_LINES ? [`${name}: ${lines} lines`] : [];
    });
    expect(offences).toEqual([]);
  });
});

describe('Slack vocabulary in the core', () => {
  /**
   * The core speaks of people, conversations and messages; what Slack calls them, and how Slack formats text,
   * belong to the Slack adapter. Read as tokens (not lines), so that prose in comments may still say "Slack":
   * - an identifier named Slack… (`SlackPerson`, `SlackNotifier`): a Slack type or service;
   * - an identifier `mrkdwn`, `block`, `blocks` or `blockKit`: Slack's markup and its layout;
   * - a string holding mrkdwn (`*bold*`, `_italic_`, `<@U…>`, `<!here>`, `<url|label>`) or an emoji shortcode
   *   (`:red_circle:`, standing alone), which only Slack would render;
   * - an emoji by name (a property `emoji`, as in `{ emoji: 'red_circle' }`), which is the adapter's to choose;
   * - English plurals (`n === 1 ? '' : 's'`): the core says how many, the adapter's wording says it in words.
   */
  const slackIdentifier = /^(Slack[A-Z]\w*|mrkdwn|blocks?|blockKit)$/;
  const slackMarkup =
    /(^|\s)[*_~][^\s*_~][^*_~]*[*_~](\s|$)|<[@#!][A-Z0-9a-z]+[^>]*>|<https?:[^|>]+\|[^>]*>|(^|\s):[a-z0-9_+-]+:(\s|$)/;

  function slackTokens(file: string): string[] {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const found: string[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node) && slackIdentifier.test(node.text)) found.push(node.text);
      const isText =
        ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateLiteralToken(node);
      if (isText && slackMarkup.test(node.text)) found.push(JSON.stringify(node.text));
      if ((ts.isPropertyAssignment(node) || ts.isPropertySignature(node)) && node.name.getText(source) === 'emoji') {
        found.push(node.getText(source));
      }
      if (ts.isConditionalExpression(node) && isPluralSuffix(node)) found.push(node.getText(source));
      ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
  }

  /** `… ? '' : 's'` (or the other way round): a plural made by hand. */
  function isPluralSuffix(node: ts.ConditionalExpression): boolean {
    const texts = [node.whenTrue, node.whenFalse].map((branch) =>
      ts.isStringLiteral(branch) || ts.isNoSubstitutionTemplateLiteral(branch) ? branch.text : undefined,
    );
    return texts.includes('') && texts.includes('s');
  }

  /** The tokens `slackTokens` finds in a snippet of source, written to a scratch file for it. */
  function tokensIn(snippet: string): string[] {
    const file = join(mkdtempSync(join(tmpdir(), 'boundary-')), 'snippet.ts');
    writeFileSync(file, snippet);
    return slackTokens(file);
  }

  it('recognises emoji by name and hand-made plurals, so the check below cannot pass on nothing', () => {
    expect(tokensIn("const alert = [{ emoji: 'red_circle' }, ' down'];")).toEqual(["emoji: 'red_circle'"]);
    expect(tokensIn('interface Part { emoji: string }')).toEqual(['emoji: string']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text to scan holds a template
    expect(tokensIn("const s = `${n} recipient${n === 1 ? '' : 's'}`;")).toEqual(["n === 1 ? '' : 's'"]);
    expect(tokensIn("const word = state === 'ok' ? 'sent' : 'failed';")).toEqual([]);
  });

  it('recognises the vocabulary it forbids, so the check below cannot pass on nothing', () => {
    expect(slackIdentifier.test('SlackPerson')).toBe(true);
    expect(slackIdentifier.test('Slacker')).toBe(false);
    expect(slackMarkup.test('Device *Support line* is down')).toBe(true);
    expect(slackMarkup.test(':red_circle: down')).toBe(true);
    expect(slackMarkup.test('<@U123> approved')).toBe(true);
    expect(slackMarkup.test('at 10:30, send:1 and group:2')).toBe(false);
    expect(slackMarkup.test('parking:slot:')).toBe(false);
  });

  it('names no Slack type, markup or block, and writes no mrkdwn or emoji shortcode, in src/core', () => {
    const offences = coreFiles.flatMap((file) => slackTokens(file).map((token) => `${relative(ROOT, file)}: ${token}`));
    expect(offences).toEqual([]);
  });
});
