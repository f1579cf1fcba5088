import { BUILTIN_SUITE } from './config.js';
import { parseSuite, type ParsedSuite } from './suite.js';

const NUMBER_ONLY = 'Answer with the number only.';
const ONE_WORD = 'Answer with one word.';

/**
 * The built-in suite: twelve short questions with one right answer each, which any
 * instruction-tuned model gets right at temperature 0, covering each kind of expectation.
 * A regression here after an upgrade is a broken kernel, template or tokenizer, not a
 * matter of taste. Teams write their own suites from their users' real questions.
 */
const CASES: readonly Record<string, unknown>[] = [
  { id: 'add', prompt: `What is 23 + 19? ${NUMBER_ONLY}`, expect: { number: 42 } },
  { id: 'multiply', prompt: `What is 12 times 11? ${NUMBER_ONLY}`, expect: { number: 132 } },
  { id: 'subtract', prompt: `What is 100 minus 37? ${NUMBER_ONLY}`, expect: { number: 63 } },
  { id: 'percent', prompt: `What is 15% of 80? ${NUMBER_ONLY}`, expect: { number: 12 } },
  {
    id: 'week',
    prompt: `How many days are there in a week? ${NUMBER_ONLY}`,
    expect: { number: 7 },
  },
  {
    id: 'capital-japan',
    prompt: `What is the capital of Japan? ${ONE_WORD}`,
    expect: { regex: '\\btokyo\\b' },
  },
  {
    id: 'capital-italy',
    prompt: `What is the capital of Italy? ${ONE_WORD}`,
    expect: { regex: '\\brome\\b' },
  },
  {
    id: 'largest-planet',
    prompt: `Which planet of our solar system is the largest? ${ONE_WORD}`,
    expect: { regex: '\\bjupiter\\b' },
  },
  {
    id: 'sentiment',
    prompt:
      'Is the sentiment of this review positive or negative? Answer with one word.\n\nReview: The battery died after a day and support never answered.',
    expect: { one_of: ['negative'] },
  },
  {
    id: 'echo',
    prompt: 'Repeat exactly this and nothing else: blue-harbor-42',
    expect: { exact: 'blue-harbor-42' },
  },
  {
    id: 'json-object',
    prompt:
      'Reply with only a JSON object that has the key "name" set to "Ada" and the key "year" set to the number 1815.',
    max_tokens: 48,
    expect: {
      json_schema: {
        type: 'object',
        required: ['name', 'year'],
        properties: { name: { const: 'Ada' }, year: { const: 1815 } },
      },
    },
  },
  {
    id: 'system-sky',
    messages: [
      { role: 'system', content: 'You answer every question with one lowercase word.' },
      { role: 'user', content: 'What colour is a clear daytime sky?' },
    ],
    expect: { regex: '\\bblue\\b' },
  },
];

/** The built-in suite, checked by the same parser as a user's file. */
export function builtinSuite(): ParsedSuite {
  return parseSuite(CASES.map((c) => JSON.stringify(c)).join('\n'), `${BUILTIN_SUITE} suite`);
}
