/**
 * The simulated runtime's "model": it answers the questions a probe asks (the built-in canaries'
 * arithmetic and capital city, the latency prompt's counting) and the built-in evaluation
 * suite's the way a small instruction-tuned model would. It can be made worse on demand:
 * `degraded` gets the evaluation's questions wrong but still passes the three canaries (the
 * silent regression a canary misses), `wrong` gets everything wrong.
 */
export type Quality = 'right' | 'degraded' | 'wrong';

/** Questions beyond arithmetic, each with its right answer and a plausible wrong one. */
const KNOWN: readonly {
  readonly asks: RegExp;
  readonly right: (m: RegExpExecArray) => string;
  readonly wrong: (m: RegExpExecArray) => string;
}[] = [
  {
    asks: /(\d+)\s*(?:-|minus)\s*(\d+)/i,
    right: (m) => String(Number(m[1]) - Number(m[2])),
    wrong: (m) => String(Number(m[1]) - Number(m[2]) + 1),
  },
  {
    asks: /(\d+)%\s*of\s*(\d+)/i,
    right: (m) => String((Number(m[1]) * Number(m[2])) / 100),
    wrong: (m) => String((Number(m[1]) * Number(m[2])) / 100 + 1),
  },
  { asks: /days .*in a week/i, right: () => '7', wrong: () => '8' },
  { asks: /capital of Japan/i, right: () => 'Tokyo', wrong: () => 'Osaka' },
  { asks: /capital of Italy/i, right: () => 'Rome', wrong: () => 'Milan' },
  { asks: /planet .*largest/i, right: () => 'Jupiter', wrong: () => 'Saturn' },
  { asks: /sentiment/i, right: () => 'Negative', wrong: () => 'Positive' },
  {
    asks: /repeat exactly this and nothing else: (\S+)/i,
    right: (m) => m[1] ?? '',
    wrong: (m) => `${m[1] ?? ''}.`.replace(/-/g, ' '),
  },
  {
    asks: /key "(\w+)" set to "([^"]*)" and the key "(\w+)" set to the number (\d+)/i,
    right: (m) => `{"${m[1]}": "${m[2]}", "${m[3]}": ${m[4]}}`,
    wrong: (m) => `{"${m[1]}": "${m[2]}", "${m[3]}": ${Number(m[4]) + 1}}`,
  },
  { asks: /colou?r is a clear daytime sky/i, right: () => 'blue', wrong: () => 'green' },
];

export function answer(prompt: string, quality: Quality = 'right'): string {
  const off = quality === 'wrong' ? 1 : 0;
  const sum = /(\d+)\s*\+\s*(\d+)/.exec(prompt);
  if (sum) return String(Number(sum[1]) + Number(sum[2]) + off);
  const product = /(\d+)\s*(?:times|\*|x|×)\s*(\d+)/i.exec(prompt);
  if (product) return String(Number(product[1]) * Number(product[2]) + off);
  if (/capital of France/i.test(prompt)) return quality === 'wrong' ? 'Lyon' : 'Paris';
  const count = /count from (\d+) to (\d+)/i.exec(prompt);
  if (count) {
    const numbers: number[] = [];
    for (let n = Number(count[1]); n <= Number(count[2]) && numbers.length < 1000; n++)
      numbers.push(n + off);
    return numbers.join(' ');
  }
  for (const known of KNOWN) {
    const match = known.asks.exec(prompt);
    if (match) return quality === 'right' ? known.right(match) : known.wrong(match);
  }
  return quality === 'wrong'
    ? 'Colourless green ideas sleep furiously.'
    : 'This is a simulated model: ask it to count, add, multiply, or for the capital of France.';
}

/** The answer cut into tokens the way a tokenizer streams them: words, each with its space. */
export function tokens(text: string, maxTokens: number): { tokens: string[]; truncated: boolean } {
  const all = text.match(/\s*\S+/g) ?? [];
  return { tokens: all.slice(0, maxTokens), truncated: all.length > maxTokens };
}

/**
 * Prompt tokens, about four characters each, plus the chat template's own; `scale` differs from
 * model to model, as tokenizers do (a model swapped for another counts the same prompt anew).
 */
export function promptTokenCount(text: string, scale: number, chat: boolean): number {
  return Math.max(1, Math.ceil((text.length / 4) * scale)) + (chat ? 12 : 1);
}
