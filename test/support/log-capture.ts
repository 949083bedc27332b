/**
 * An in-memory destination for pino, as pino's own tests use: `pino(options, capture.stream)`, then assert on the
 * parsed JSON lines (e.g. that no phone number or message text was ever logged).
 */
import { Writable } from 'node:stream';

// biome-ignore lint/suspicious/noExplicitAny: a pino line is any JSON object the code chose to log
export type LogLine = Record<string, any>;

export interface LogCapture {
  /** Pass to pino as its destination stream. */
  stream: Writable;
  /** Every complete line written so far, JSON-parsed; throws naming the line if one is not JSON. */
  lines(): LogLine[];
  /** Everything written so far, verbatim (handy for `not.toContain(phoneNumber)`). */
  text(): string;
  /** Forget what was written. */
  clear(): void;
}

export function createLogCapture(): LogCapture {
  let written = '';
  const stream = new Writable({
    decodeStrings: false,
    // The callback runs synchronously, so a line pino writes is readable as soon as the log call returns.
    write(chunk: string | Buffer, _encoding, callback) {
      written += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      callback();
    },
  });

  return {
    stream,
    lines: () =>
      // Only newline-terminated lines are complete; pino ends every record with one.
      written
        .slice(0, written.lastIndexOf('\n') + 1)
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => {
          try {
            return JSON.parse(line) as LogLine;
          } catch {
            throw new Error(`log line is not JSON: ${line}`);
          }
        }),
    text: () => written,
    clear: () => {
      written = '';
    },
  };
}
