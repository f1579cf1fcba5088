import { pino, type Logger, type DestinationStream } from 'pino';
import { scrub } from './secrets.js';

export type { Logger };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** JSON logs on stderr, so `inferwatch once` keeps stdout for the exposition. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
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
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
