import { createParser, type EventSourceParser } from 'eventsource-parser';
import { LineSplitter } from '../core/lines.js';

/** What the framing hands on: decoded payloads, the end marker, keep-alives, bad frames. */
export interface FrameSink {
  payload(value: unknown): void;
  /** `data: [DONE]` on OpenAI-style streams. */
  done(): void;
  /** An SSE comment (a ping): proof the connection lives, not that generation progresses. */
  keepAlive(): void;
  /** An SSE `event: error`. */
  errorEvent(): void;
  /** A frame that is not JSON, or an NDJSON line longer than the cap. */
  malformed(): void;
}

export interface Framer {
  push(text: string): void;
  end(): void;
}

const MAX_LINE_CHARS = 1024 * 1024;

/**
 * Server-sent events through eventsource-parser (WHATWG rules: `data:` with or without a
 * space, multi-line data, comments, events split across reads or several in one read).
 */
export function sseFramer(sink: FrameSink): Framer {
  const parser: EventSourceParser = createParser({
    onEvent(event) {
      if (event.event === 'error') return sink.errorEvent();
      if (event.data.trim() === '[DONE]') return sink.done();
      decode(event.data, sink);
    },
    onComment: () => sink.keepAlive(),
    onError: () => sink.malformed(),
    maxBufferSize: MAX_LINE_CHARS,
  });
  let terminated = false;
  return {
    push(text) {
      if (terminated) return;
      try {
        parser.feed(text);
      } catch {
        // Past the buffer cap the parser refuses more input; onError has said so.
        terminated = true;
      }
    },
    // A last event whose blank line never came still counts, as it does for the OpenAI and
    // vLLM clients (the WHATWG rule for browsers drops it): the blank line is supplied here.
    // An event cut off mid-line is then malformed JSON, not a payload.
    end: () => {
      if (terminated) return;
      try {
        parser.feed('\n\n');
      } catch {
        // Past the buffer cap: onError has said so.
      }
      parser.reset();
    },
  };
}

/** Newline-delimited JSON (Ollama). */
export function ndjsonFramer(sink: FrameSink): Framer {
  const lines = new LineSplitter(
    MAX_LINE_CHARS,
    (line) => {
      if (line.trim() !== '') decode(line, sink);
    },
    () => sink.malformed(),
  );
  return { push: (text) => lines.push(text), end: () => lines.end() };
}

function decode(text: string, sink: FrameSink): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return sink.malformed();
  }
  sink.payload(value);
}
