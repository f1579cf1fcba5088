/** The longest value of a wanted field kept (a model name, a usage object); longer ones are dropped. */
const MAX_VALUE_CHARS = 1024;
const MAX_KEY_CHARS = 64;

/**
 * Picks a few top-level fields out of a JSON object as it streams by, without holding the
 * rest: a request's `model` from a prompt of megabytes, an answer's `usage` after its text.
 * Everything else (the prompt, the answer) is read past a character at a time and forgotten.
 * Text that is not a JSON object yields nothing; it never throws.
 */
export class JsonFieldPicker {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** At depth 1, the next string is a key. */
  private expectKey = false;
  private readingKey = false;
  private key = '';
  /** The raw text of the wanted value being read; undefined when not reading one. */
  private value: string | undefined;
  private readonly found = new Map<string, unknown>();
  private broken = false;

  constructor(private readonly wanted: ReadonlySet<string>) {}

  feed(text: string): void {
    if (this.broken) return;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (!this.escaped && !this.readingKey && this.value === undefined) {
          // Skip to the next quote or backslash: most of a body is inside strings.
          const next = nextSpecial(text, i);
          if (next < 0) return;
          i = next;
        }
        this.stringChar(text.charCodeAt(i), text[i] as string);
        continue;
      }
      switch (c) {
        case QUOTE:
          this.inString = true;
          if (this.depth === 1 && this.expectKey) {
            this.readingKey = true;
            this.key = '';
          } else this.append('"');
          break;
        case OPEN_BRACE:
        case OPEN_BRACKET:
          if (this.depth === 0 && c !== OPEN_BRACE) return this.break();
          this.depth++;
          if (this.depth === 1) this.expectKey = true;
          else this.append(text[i] as string);
          break;
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          this.depth--;
          if (this.depth >= 1) this.append(text[i] as string);
          if (this.depth === 0) this.endValue();
          if (this.depth < 0) return this.break();
          break;
        case COLON:
          if (this.depth === 1 && !this.expectKey) {
            if (this.wanted.has(this.key) && !this.found.has(this.key)) this.value = '';
          } else this.append(':');
          break;
        case COMMA:
          if (this.depth === 1) {
            this.endValue();
            this.expectKey = true;
          } else this.append(',');
          break;
        default:
          if (this.depth === 0 && !isSpace(c)) return this.break();
          if (!isSpace(c)) this.append(text[i] as string);
      }
    }
  }

  /** The wanted fields read so far, parsed; a value that was cut or is not JSON is left out. */
  get fields(): ReadonlyMap<string, unknown> {
    return this.found;
  }

  private stringChar(c: number, ch: string): void {
    if (this.escaped) {
      this.escaped = false;
      if (this.readingKey) this.key += ch;
      else this.append(ch);
      return;
    }
    if (c === BACKSLASH) {
      this.escaped = true;
      if (!this.readingKey) this.append(ch);
      return;
    }
    if (c === QUOTE) {
      this.inString = false;
      if (this.readingKey) {
        this.readingKey = false;
        this.expectKey = false;
      } else this.append(ch);
      return;
    }
    if (this.readingKey) {
      if (this.key.length < MAX_KEY_CHARS) this.key += ch;
    } else this.append(ch);
  }

  private append(ch: string): void {
    if (this.value === undefined) return;
    if (this.value.length >= MAX_VALUE_CHARS) {
      // Too long to be a name or a count: not what was wanted.
      this.value = undefined;
      return;
    }
    this.value += ch;
  }

  private endValue(): void {
    if (this.value === undefined) return;
    try {
      this.found.set(this.key, JSON.parse(this.value));
    } catch {
      // Not a value after all; left out.
    }
    this.value = undefined;
  }

  private break(): void {
    this.broken = true;
    this.value = undefined;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

const SPECIAL = /["\\]/g;

function nextSpecial(text: string, from: number): number {
  SPECIAL.lastIndex = from;
  return SPECIAL.exec(text)?.index ?? -1;
}
