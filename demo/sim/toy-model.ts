/**
 * The simulated runtime's "model": it answers the questions a probe asks (the built-in canaries'
 * arithmetic and capital city, the latency prompt's counting) the way a small instruction-tuned
 * model would, and can be made to answer them wrong.
 */
export function answer(prompt: string, wrong = false): string {
  const off = wrong ? 1 : 0;
  const sum = /(\d+)\s*\+\s*(\d+)/.exec(prompt);
  if (sum) return String(Number(sum[1]) + Number(sum[2]) + off);
  const product = /(\d+)\s*(?:times|\*|x|×)\s*(\d+)/i.exec(prompt);
  if (product) return String(Number(product[1]) * Number(product[2]) + off);
  if (/capital of France/i.test(prompt)) return wrong ? 'Lyon' : 'Paris';
  const count = /count from (\d+) to (\d+)/i.exec(prompt);
  if (count) {
    const numbers: number[] = [];
    for (let n = Number(count[1]); n <= Number(count[2]) && numbers.length < 1000; n++)
      numbers.push(n + off);
    return numbers.join(' ');
  }
  return wrong
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
