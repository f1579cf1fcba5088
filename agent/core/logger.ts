import { Writable } from 'node:stream';
import { pino, type Logger, type DestinationStream } from 'pino';
import { textLine } from './log-text.js';
import { scrub } from './secrets.js';

export type { Logger };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** How log lines are written: JSON (journald, collectors) or text (a person at a terminal). */
export type LogFormat = 'json' | 'text';

/** The config's log_format, settled: `auto` is text on a terminal, JSON anywhere else. */
export function logFormat(setting: 'auto' | LogFormat, terminal: boolean): LogFormat {
  return setting === 'auto' ? (terminal ? 'text' : 'json') : setting;
}

/** Each JSON line, already scrubbed of secrets, written as text to `out`. */
export function textDestination(out: { write(text: string): unknown }): DestinationStream {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) out.write(textLine(line));
      done();
    },
  });
}

/**
 * Logs on stderr, so `inferwatch once` keeps stdout for the exposition: JSON, or text for a
 * person.
 */
export function createLogger(
  level: LogLevel,
  destination?: DestinationStream,
  format: LogFormat = 'json',
): Logger {
  return pino(
    {
      level,
      base: { app: 'inferwatch' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Defence in depth: secrets never reach the log, even if a caller passes them in.
      redact: {
        paths: ['*.password', '*.api_key', '*.token', '*.authorization', 'headers.authorization'],
        censor: '[redacted]',
      },
      // Every line passes the secret scrubber on its way out, whatever a library put in it.
      hooks: { streamWrite: scrub },
    },
    destination ??
      (format === 'text'
        ? textDestination(process.stderr)
        : pino.destination({ fd: 2, sync: false })),
  );
}
