/*
 * `npm run bench`: prints numbers, asserts nothing (tests never assert on wall-clock time).
 *
 * Machines are noisy, so every figure is measured in the same run as a baseline and also shown as a ratio to it:
 * 1. Store operations, ops/s: `claim` of fresh keys and `update` of one hot key, on the memory, embedded SQLite and
 *    Redis stores, against `Map.set` run in the same async loop.
 * 2. End to end: signed view submissions into the real bot (test/support/bot-harness.ts wiring: Slack fake, WAPing
 *    sandbox, embedded store), submission → WAPing accepted, against WapingClient.sendMessage straight to the same
 *    sandbox, both with the same number of sends in flight.
 *
 * Redis: REDIS_URL, else redis://127.0.0.1:6379 when it answers, else a throwaway redis-server when one is installed;
 * otherwise the Redis rows are skipped with a note. Everything runs in this one process, on loopback.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createStore } from '../src/adapters/store/create-store.js';
import { WapingClient } from '../src/adapters/waping/client.js';
import { keyForOrigin } from '../src/core/idempotency.js';
import type { Store } from '../src/core/ports.js';
import { createLogger } from '../src/logger.js';
import { startHarness, submitSendModal, WAPING_KEY } from '../test/support/bot-harness.js';
import { findRedis } from './find-redis.js';

const STORE_WARMUP_MS = 200;
const STORE_MEASURE_MS = 800;
const IN_FLIGHT = [1, 10];
const SENDS = 200;
const SENDS_IN_FLIGHT = 10;
const WARMUP_SENDS = 20;

/** A send record's worth of JSON (~1 KB), as the bot claims it. */
const RECORD = {
  key: randomUUID(),
  teamId: 'T0TEAM',
  requestedBy: 'U0ALICE',
  channelId: 'C0SUPPORT',
  origin: { kind: 'view', viewId: 'V0BENCH' },
  generation: 0,
  deviceId: 'dev_support',
  deviceName: 'Support line',
  to: '+14155552671',
  text: 'Your order is ready. '.repeat(20),
  body: JSON.stringify({ deviceId: 'dev_support', to: '+14155552671', type: 'text', text: { body: 'x'.repeat(400) } }),
  state: 'pending',
  timeline: [],
  attempts: 0,
  leaseUntil: 0,
  owner: 'bench',
  createdAt: 0,
  updatedAt: 0,
};
type BenchRecord = typeof RECORD & { n?: number };

const TTL_MS = 60_000; // Redis keys of a run expire on their own

/** Runs `op` with `inFlight` loops for `ms`, returns completed ops per second. */
async function rate(inFlight: number, ms: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  let done = 0;
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        await op(next++);
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

async function measure(inFlight: number, op: (i: number) => Promise<unknown>): Promise<number> {
  await rate(inFlight, STORE_WARMUP_MS, op);
  return rate(inFlight, STORE_MEASURE_MS, op);
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A plain-text table: the first `textColumns` columns left-aligned, numbers right-aligned. */
function table(header: string[], rows: string[][], textColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i < textColumns ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function benchStores(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'waping-bench-store-'));
  const redis = await findRedis();
  const backends: Array<{ name: string; open: () => Promise<Store> }> = [
    { name: 'memory', open: () => createStore({ url: 'memory://', dataDir }) },
    { name: 'embedded SQLite', open: () => createStore({ dataDir }) },
  ];
  if ('url' in redis) {
    const namespace = `bench:${randomUUID().slice(0, 8)}`;
    backends.push({ name: 'Redis', open: () => createStore({ url: redis.url, dataDir, namespace }) });
  }

  // The baseline: Map.set in the same async loop, so loop and await overhead are in both.
  const baseline = new Map<number, { claim: number; update: number }>();
  for (const inFlight of IN_FLIGHT) {
    const map = new Map<string, BenchRecord>();
    const claim = await measure(inFlight, async (i) => {
      if (map.size >= 100_000) map.clear();
      const key = `claim:${i}`;
      if (!map.has(key)) map.set(key, RECORD);
    });
    const update = await measure(inFlight, async () => {
      const current = map.get('hot');
      map.set('hot', { ...RECORD, n: (current?.n ?? 0) + 1 });
    });
    baseline.set(inFlight, { claim, update });
  }

  const rows: string[][] = [];
  for (const inFlight of IN_FLIGHT) {
    const base = baseline.get(inFlight) ?? { claim: Number.NaN, update: Number.NaN };
    rows.push(['Map baseline', 'set fresh key', String(inFlight), fmt(base.claim), '1']);
    rows.push(['Map baseline', 'read+set hot key', String(inFlight), fmt(base.update), '1']);
  }
  for (const backend of backends) {
    const store = await backend.open();
    try {
      for (const inFlight of IN_FLIGHT) {
        const base = baseline.get(inFlight) ?? { claim: Number.NaN, update: Number.NaN };
        const run = randomUUID().slice(0, 8);
        const claim = await measure(inFlight, (i) => store.claim(`claim:${run}:${i}`, RECORD, TTL_MS));
        const update = await measure(inFlight, () =>
          store.update<BenchRecord>(`hot:${run}`, (current) => ({ ...RECORD, n: (current?.n ?? 0) + 1 }), TTL_MS),
        );
        rows.push([backend.name, 'claim fresh key', String(inFlight), fmt(claim), `1/${fmt(base.claim / claim)}`]);
        rows.push([backend.name, 'update hot key', String(inFlight), fmt(update), `1/${fmt(base.update / update)}`]);
      }
    } finally {
      await store.close();
    }
  }
  await ('server' in redis ? redis.server?.stop() : undefined);
  rmSync(dataDir, { recursive: true, force: true });

  console.log('\n1. Store operations, ops/s (ratio = this ÷ Map baseline in the same loop; 1/N = N times slower)\n');
  console.log(table(['store', 'operation', 'in flight', 'ops/s', 'ratio'], rows, 2));
  if ('skipped' in redis) console.log(`\nRedis skipped: ${redis.skipped}.`);
  else console.log(`\nRedis: ${redis.url}${redis.server ? ' (throwaway redis-server started for this run)' : ''}.`);
  console.log(
    `Embedded SQLite: WAL, synchronous=FULL, in ${tmpdir()} (one fsync per group commit: the writes of one event-loop turn).`,
  );
}

/** Closed loop: `inFlight` workers each run `one` until `count` runs are done; returns the wall time in ms. */
async function closedLoop(count: number, inFlight: number, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < count; i = next++) await one(i);
    }),
  );
  return performance.now() - start;
}

async function benchEndToEnd(): Promise<void> {
  // Production logs at info; here they go nowhere, but are still formatted and redacted.
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const h = await startHarness({ store: 'embedded', overrides: { logger: createLogger('info', sink) } });
  const direct = new WapingClient({ baseUrl: h.waping.url, apiKey: WAPING_KEY, timeoutMs: 10_000 });
  try {
    const run = randomUUID().slice(0, 8).toUpperCase();
    const viewId = (label: string, i: number) => `V0${label}${run}${i}`;

    /** One send through the bot: signed submission, then wait until the sandbox has accepted its key. */
    const ackMs: number[] = [];
    const startedAt = new Map<string, number>();
    const throughBot = (label: string) => async (i: number) => {
      const id = viewId(label, i);
      const key = keyForOrigin('T0TEAM', id);
      const t0 = Date.now();
      const p0 = performance.now();
      if (label === 'M') startedAt.set(key, t0);
      const answer = await submitSendModal(h, { viewId: id });
      if (label === 'M') ackMs.push(performance.now() - p0);
      if (answer.status !== 200) throw new Error(`submission answered HTTP ${answer.status}`);
      while (h.waping.sendsFor(key) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    };

    /** One send straight to the sandbox with the bot's own WAPing client. */
    const directMs: number[] = [];
    const straight = (label: string) => async (i: number) => {
      const body = direct.textBody({ deviceId: 'dev_support', to: '+14155552671', text: `Your order is ready ${i}` });
      const p0 = performance.now();
      const result = await direct.sendMessage(`bench-${label}-${run}-${i}`, body);
      if (label === 'M') directMs.push(performance.now() - p0);
      if (!result.ok) throw new Error(`WAPing refused a direct send: ${result.error.code}`);
    };

    await closedLoop(WARMUP_SENDS, SENDS_IN_FLIGHT, straight('W'));
    await closedLoop(WARMUP_SENDS, SENDS_IN_FLIGHT, throughBot('W'));
    await h.bot.idle();

    const directWall = await closedLoop(SENDS, SENDS_IN_FLIGHT, straight('M'));
    const botWall = await closedLoop(SENDS, SENDS_IN_FLIGHT, throughBot('M'));
    await h.bot.idle();

    const accepted = h.waping
      .messages()
      .filter((message) => startedAt.has(message.key))
      .map((message) => ({ key: message.key, ms: message.at - (startedAt.get(message.key) ?? message.at) }));
    const measured = accepted.map((m) => m.ms);
    const botSorted = [...measured].sort((a, b) => a - b);
    const ackSorted = [...ackMs].sort((a, b) => a - b);
    const directSorted = [...directMs].sort((a, b) => a - b);
    const requests = h.waping.requests.filter((request) => request.key && startedAt.has(request.key)).length;

    const directRate = SENDS / (directWall / 1000);
    const botRate = SENDS / (botWall / 1000);
    const d50 = percentile(directSorted, 50);
    const d95 = percentile(directSorted, 95);
    const rows = [
      ['direct WapingClient.sendMessage (baseline)', fmt(d50, 1), fmt(d95, 1), fmt(directRate), '1', '1'],
      [
        'bot: signed submission → WAPing accepted',
        fmt(percentile(botSorted, 50), 1),
        fmt(percentile(botSorted, 95), 1),
        fmt(botRate),
        `${fmt(percentile(botSorted, 50) / d50, 1)}×`,
        `1/${fmt(directRate / botRate, 1)}`,
      ],
      [
        'bot: signed submission → ack (HTTP 200)',
        fmt(percentile(ackSorted, 50), 1),
        fmt(percentile(ackSorted, 95), 1),
        '',
        `${fmt(percentile(ackSorted, 50) / d50, 1)}×`,
        '',
      ],
    ];
    console.log(
      `\n2. End to end: ${SENDS} sends, ${SENDS_IN_FLIGHT} in flight, embedded store (after ${WARMUP_SENDS} warm-up sends)\n`,
    );
    console.log(table(['path', 'p50 ms', 'p95 ms', 'sends/s', 'p50 ratio', 'rate ratio'], rows));
    console.log(
      `\nWAPing accepted ${measured.length}/${SENDS} bot sends in ${requests} requests; ` +
        `${h.slack.callsTo('chat.postMessage').length} parent messages posted in all.`,
    );
    console.log(
      'Bot latency = sandbox acceptance time − submission start (ms clock); it includes the Slack parent message' +
        ' posted before the WAPing call.',
    );
  } finally {
    await direct.close();
    await h.stop();
  }
}

const started = performance.now();
console.log(`waping-slack-bot bench · node ${process.version} · ${cpus().length} CPU(s) · ${new Date().toISOString()}`);
await benchStores();
await benchEndToEnd();
console.log(`\nTotal ${fmt((performance.now() - started) / 1000, 1)} s.`);

// Everything above is closed; should a handle still hold the process, say so instead of hanging.
setTimeout(() => {
  console.error('bench: something was left open; exiting anyway');
  process.exit(0);
}, 5_000).unref();
