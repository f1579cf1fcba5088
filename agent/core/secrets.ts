/**
 * The secrets this process holds (header values, API keys, OTLP headers, password hashes), so
 * that every text leaving the agent can be scrubbed of them: log lines, pages, command output.
 * Texts are built from known-safe parts in the first place; this is the second line of defence,
 * for a library's error message that quotes what it was given.
 */
const known = new Set<string>();
/** Shorter values would scrub ordinary words; no real credential is this short. */
const MIN_LENGTH = 6;
const MAX_SECRETS = 4096;
export const REDACTED = '[redacted]';

export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_LENGTH || known.size >= MAX_SECRETS) return;
  known.add(value);
  // A value that travels percent-encoded (in a URL, say) would appear so in a message.
  const encoded = encodeURIComponent(value);
  if (encoded !== value) known.add(encoded);
}

/** The text with every registered secret replaced by `[redacted]`. */
export function scrub(text: string): string {
  if (known.size === 0) return text;
  let out = text;
  for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}
