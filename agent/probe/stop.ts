import { errorCode, HttpError } from '../core/http.js';

/** Why a run ended before its verdict: skipped (do no harm) or failed, with a bounded reason. */
export type Stop = {
  readonly outcome: 'skipped' | 'failure';
  readonly reason: string;
  readonly detail: string;
};

/** An HTTP status that is not an answer, as a bounded reason. */
export function statusStop(path: string, status: number): Stop {
  const reason =
    status === 429
      ? 'http_429'
      : status >= 500
        ? 'http_5xx'
        : status >= 400
          ? 'http_4xx'
          : 'http_other';
  return { outcome: 'failure', reason, detail: `${path} answered HTTP ${status}` };
}

export function transportStop(error: unknown, signal: AbortSignal): Stop {
  if (signal.aborted && !cancelOnly(signal))
    return { outcome: 'failure', reason: 'timeout_first_token', detail: 'no answer in time' };
  if (error instanceof HttpError && error.reason === 'timeout')
    return { outcome: 'failure', reason: 'timeout_first_token', detail: error.message };
  if (error instanceof HttpError && error.reason === 'too_large')
    return { outcome: 'failure', reason: 'too_large', detail: error.message };
  // An error code only: a transport's own message can quote what it was given.
  const code = errorCode(error);
  const message =
    error instanceof HttpError
      ? error.message
      : code
        ? `connection failed (${code})`
        : 'connection failed';
  return { outcome: 'failure', reason: 'connect', detail: message };
}

/** Whether the signal fired because the agent is stopping rather than the deadline. */
export function cancelOnly(signal: AbortSignal): boolean {
  return signal.reason instanceof Error && signal.reason.name !== 'TimeoutError';
}
