/**
 * A strict parser of Prometheus' text exposition format 0.0.4, written for the tests so that a malformed
 * `/metrics` answer fails them (prom-client's own output is not trusted to be right by construction).
 *
 * Checked: every line is a `# HELP`, a `# TYPE`, a comment or a sample; names and label names follow the
 * grammar; label values are quoted with only `\\`, `\"` and `\n` escapes; values are floats (`NaN`, `+Inf`,
 * `-Inf` too); the text ends with a newline; a family's TYPE comes once and before its samples, its samples
 * are contiguous and never repeat a series; a histogram has `_bucket` series with `le`, non-decreasing, and a
 * `+Inf` bucket equal to its `_count`.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (`x_bucket`, `x_sum`, …). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

export type Exposition = Map<string, Family>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<MetricType, string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

export class ExpositionError extends Error {}

function fail(lineNumber: number, why: string, line: string): never {
  throw new ExpositionError(`line ${lineNumber}: ${why}: ${JSON.stringify(line.slice(0, 120))}`);
}

/** A float as Prometheus reads it (Go's ParseFloat: NaN and Inf in any case; prom-client writes `Nan`). */
function parseValue(text: string): number | undefined {
  const word = text.toLowerCase();
  if (word === 'nan') return Number.NaN;
  if (word === '+inf' || word === 'inf' || word === '+infinity' || word === 'infinity') return Number.POSITIVE_INFINITY;
  if (word === '-inf' || word === '-infinity') return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** `{a="x",b="y"}` starting at `text[0]`; returns the labels and the rest after `}`. */
function parseLabels(text: string, lineNumber: number, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const nameMatch = /^[^=]*/.exec(text.slice(i));
    const name = nameMatch?.[0] ?? '';
    if (!LABEL_NAME.test(name)) fail(lineNumber, `bad label name ${JSON.stringify(name)}`, line);
    if (name in labels) fail(lineNumber, `label ${name} given twice`, line);
    i += name.length;
    if (text[i] !== '=' || text[i + 1] !== '"') fail(lineNumber, 'expected ="', line);
    i += 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) fail(lineNumber, 'unterminated label value', line);
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else fail(lineNumber, `bad escape \\${next ?? ''}`, line);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    labels[name] = value;
    i++; // the closing quote
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail(lineNumber, 'expected , or } after a label', line);
  }
}

function familyOf(sampleName: string, families: Exposition): Family | undefined {
  for (const [name, family] of families) {
    if (SUFFIXES[family.type].some((suffix) => `${name}${suffix}` === sampleName)) return family;
  }
  return undefined;
}

/** Parse the whole text; throws ExpositionError naming the first offending line. */
export function parseExposition(text: string): Exposition {
  if (text.length === 0) throw new ExpositionError('empty exposition');
  if (!text.endsWith('\n')) throw new ExpositionError('the exposition does not end with a newline');
  const families: Exposition = new Map();
  const series = new Set<string>();
  const closed = new Set<string>();
  const typed = new Set<string>();
  let current: Family | undefined;
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, index) => {
    const n = index + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!meta) return; // a plain comment
      const [, kind, name = '', rest = ''] = meta;
      if (!METRIC_NAME.test(name)) fail(n, 'bad metric name', line);
      let family = families.get(name);
      if (family && closed.has(name)) fail(n, `${kind} for a family whose samples already ended`, line);
      if (!family) {
        family = { name, type: 'untyped', samples: [] };
        families.set(name, family);
      }
      if (current && current !== family) closed.add(current.name);
      current = family;
      if (kind === 'HELP') {
        if (family.help !== undefined) fail(n, 'second HELP', line);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) fail(n, 'bad escape in HELP', line);
        family.help = rest.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
      } else {
        const type = rest.trim() as MetricType;
        if (!TYPES.has(type)) fail(n, `unknown type ${JSON.stringify(rest)}`, line);
        if (family.samples.length > 0) fail(n, 'TYPE after samples', line);
        if (typed.has(name)) fail(n, 'second TYPE', line);
        typed.add(name);
        family.type = type;
      }
      return;
    }
    const nameMatch = /^[^\s{]+/.exec(line);
    const name = nameMatch?.[0] ?? '';
    if (!METRIC_NAME.test(name)) fail(n, 'bad sample name', line);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, n, line));
    const fields = rest.trim().split(/\s+/);
    if (!/^\s/.test(rest) || fields.length < 1 || fields.length > 2)
      fail(n, 'expected a value (and a timestamp)', line);
    const value = parseValue(fields[0] ?? '');
    if (value === undefined) fail(n, 'bad value', line);
    if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) fail(n, 'bad timestamp', line);
    let family = familyOf(name, families);
    if (!family) {
      family = { name, type: 'untyped', samples: [] };
      families.set(name, family);
    }
    if (closed.has(family.name)) fail(n, `samples of ${family.name} are not contiguous`, line);
    if (current && current !== family) closed.add(current.name);
    current = family;
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(id)) fail(n, 'the same series twice', line);
    series.add(id);
    if (family.type === 'histogram' && name.endsWith('_bucket') && labels.le === undefined) {
      fail(n, 'a histogram bucket without le', line);
    }
    family.samples.push({ name, labels, value });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  const keyOf = (labels: Record<string, string>) =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => k !== 'le')
        .sort(),
    );
  for (const sample of family.samples) {
    const group = groups.get(keyOf(sample.labels)) ?? { buckets: [] };
    groups.set(keyOf(sample.labels), group);
    if (sample.name.endsWith('_bucket')) {
      const le = parseValue(sample.labels.le ?? '');
      if (le === undefined) throw new ExpositionError(`${family.name}: bad le ${sample.labels.le}`);
      group.buckets.push([le, sample.value]);
    } else if (sample.name.endsWith('_count')) group.count = sample.value;
  }
  for (const [key, group] of groups) {
    const sorted = [...group.buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if ((sorted[i]?.[1] ?? 0) < (sorted[i - 1]?.[1] ?? 0)) {
        throw new ExpositionError(`${family.name}${key}: bucket counts decrease`);
      }
    }
    const inf = sorted.at(-1);
    if (!inf || inf[0] !== Number.POSITIVE_INFINITY) throw new ExpositionError(`${family.name}${key}: no +Inf bucket`);
    if (group.count !== inf[1]) throw new ExpositionError(`${family.name}${key}: +Inf bucket is not _count`);
  }
}

/** The sum of the samples named `name` whose labels include `labels` (0 when there is none). */
export function sampleSum(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const family of exposition.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => sample.labels[k] === v)) total += sample.value;
    }
  }
  return total;
}

/** GET `${baseUrl}/metrics`, check status and content type, and parse the text strictly. */
export async function scrape(baseUrl: string): Promise<Exposition> {
  const response = await fetch(`${baseUrl}/metrics`);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}: ${text.slice(0, 200)}`);
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.startsWith('text/plain') || !contentType.includes('version=0.0.4')) {
    throw new Error(`/metrics content-type is ${contentType}`);
  }
  return parseExposition(text);
}
