/**
 * The built-in canaries: short questions with one short answer and a wide margin, which any
 * instruction-tuned model gets right at temperature 0. A wrong answer after a driver or
 * runtime upgrade is the sign of a miscompiled kernel or a broken chat template.
 */
export const DEFAULT_CANARIES: readonly { name: string; prompt: string; expect: string }[] = [
  {
    name: 'addition',
    prompt: 'What is 17 + 25? Answer with the number only.',
    expect: '\\b42\\b',
  },
  {
    name: 'multiplication',
    prompt: 'What is 9 times 8? Answer with the number only.',
    expect: '\\b72\\b',
  },
  {
    name: 'capital',
    prompt: 'What is the capital of France? Answer with one word.',
    expect: '\\bparis\\b',
  },
];

/** Long enough to fill the default 16 tokens on any model, so TPOT has tokens to divide by. */
export const DEFAULT_LATENCY_PROMPT = 'Count from 1 to 100, with the numbers separated by spaces.';
