/**
 * `npm run bench` (first part): the cost of one runtime read once the body is in: parse the
 * exposition, map it onto the llm schema, fold engines and keep counters monotone. Run on
 * the fixtures, and on vLLM with 8 data-parallel engines (the two-engine fixture repeated).
 * Then the same for one dcgm-exporter read: its text parsed and grouped by GPU, for 8 GPUs.
 * Then the probe's client side: one streamed answer framed, decoded and measured, so its own
 * cost is known to stay far below the latencies it measures.
 *
 *   BENCH_READS   reads per case (default 2000)
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDcgm } from '../agent/collectors/dcgm/parse.js';
import { mapSglang } from '../agent/collectors/runtimes/adapters/sglang.js';
import { mapTgi } from '../agent/collectors/runtimes/adapters/tgi.js';
import { mapTriton } from '../agent/collectors/runtimes/adapters/triton.js';
import { mapVllm } from '../agent/collectors/runtimes/adapters/vllm.js';
import { TargetFolder } from '../agent/collectors/runtimes/fold.js';
import type { Reading } from '../agent/collectors/runtimes/reading.js';
import { parseExposition, type ParsedExposition } from '../agent/core/prom-text.js';
import { DIALECTS } from '../agent/shared/dialect.js';
import { sseFramer } from '../agent/shared/framing.js';
import { StreamMeasure } from '../agent/probe/measure.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const READS = Number(process.env.BENCH_READS ?? '2000');
const fixture = (name: string) => readFileSync(join(ROOT, 'test/fixtures/runtimes', name), 'utf8');

const twoEngines = fixture('vllm_metrics_v1_constructed_two-engines.txt');
const eightEngines = [0, 2, 4, 6]
  .map((base) =>
    twoEngines
      .replaceAll('engine="1"', `engine="${base + 1}"`)
      .replaceAll('engine="0"', `engine="${base}"`),
  )
  .join('');

const cases: [string, string, (e: ParsedExposition) => Reading][] = [
  ['vLLM V1, 2 engines', twoEngines, (e) => mapVllm(e, {}, 't')],
  ['vLLM V1, 8 engines', eightEngines, (e) => mapVllm(e, {}, 't')],
  [
    'SGLang (docs capture)',
    fixture('sglang_metrics_llama-3.1-8b_docs-example.txt'),
    (e) => mapSglang(e, {}, 't'),
  ],
  [
    'TGI (capture)',
    fixture('tgi_metrics_datadog-fixture_partial.txt'),
    (e) => mapTgi(e, { model: 'm' }, 't'),
  ],
  [
    'Triton + TRT-LLM',
    fixture('triton_metrics_constructed_newer-backend.txt'),
    (e) => mapTriton(e, {}, 't'),
  ],
];

console.log(`| runtime exposition | bytes | lines | parse + map + fold, median | p99 |`);
console.log(`|---|---|---|---|---|`);
for (const [name, text, map] of cases) {
  const folder = new TargetFolder();
  const times: number[] = [];
  for (let i = 0; i < READS + 100; i++) {
    const start = performance.now();
    folder.fold(map(parseExposition(text)).samples);
    if (i >= 100) times.push(performance.now() - start); // the first 100 warm the JIT
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => (times[Math.floor(q * (times.length - 1))] as number).toFixed(3);
  console.log(
    `| ${name} | ${Buffer.byteLength(text)} | ${text.split('\n').length - 1} | ${at(0.5)} ms | ${at(0.99)} ms |`,
  );
}

const dcgmThree = readFileSync(
  join(ROOT, 'test/fixtures/dcgm/dcgm-exporter_metrics_constructed_h100x3.txt'),
  'utf8',
);
// 8 GPUs: the fixture's lines of its GPUs 0 and 1 repeated under six more UUIDs.
const dcgmEight = dcgmThree
  .split('\n')
  .flatMap((line) =>
    /gpu="0"/.test(line)
      ? [0, 3, 4, 5, 6, 7].map((n) =>
          line.replace('gpu="0"', `gpu="${n}"`).replace('-000000000000"', `-00000000000${n}"`),
        )
      : [line],
  )
  .join('\n');
const times: number[] = [];
for (let i = 0; i < READS + 100; i++) {
  const start = performance.now();
  parseDcgm(dcgmEight);
  if (i >= 100) times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
const at = (q: number) => (times[Math.floor(q * (times.length - 1))] as number).toFixed(3);
console.log('');
console.log(`| dcgm-exporter exposition | GPUs | bytes | parse + group, median | p99 |`);
console.log(`|---|---|---|---|---|`);
console.log(
  `| constructed H100 fields, all enabled | ${parseDcgm(dcgmEight).gpus.size} | ${Buffer.byteLength(dcgmEight)} | ${at(0.5)} ms | ${at(0.99)} ms |`,
);

// A 256-token answer, one token per chunk as vLLM streams it, then the usage chunk and [DONE],
// handed over in 1,460-byte pieces (one TCP segment each).
const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null })}\n\n`;
const stream = [
  chunk({ role: 'assistant', content: '' }),
  ...Array.from({ length: 256 }, (_, i) =>
    chunk({ content: ` ${i + 1}` }, i === 255 ? 'length' : null),
  ),
  `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 21, completion_tokens: 256 } })}\n\n`,
  'data: [DONE]\n\n',
].join('');
const pieces: string[] = [];
for (let i = 0; i < stream.length; i += 1460) pieces.push(stream.slice(i, i + 1460));
const dialect = DIALECTS['openai-chat'];
const probeTimes: number[] = [];
let tokens = 0;
for (let i = 0; i < READS + 100; i++) {
  const start = performance.now();
  const measure = new StreamMeasure(0);
  const framer = sseFramer({
    payload: (value) => measure.event(performance.now(), dialect.read(value)),
    done: () => undefined,
    keepAlive: () => undefined,
    errorEvent: () => undefined,
    malformed: () => undefined,
  });
  for (const piece of pieces) framer.push(piece);
  framer.end();
  tokens = measure.result().outputTokens ?? 0;
  if (i >= 100) probeTimes.push(performance.now() - start);
}
probeTimes.sort((a, b) => a - b);
const probeAt = (q: number) => probeTimes[Math.floor(q * (probeTimes.length - 1))] as number;
console.log('');
console.log(
  `| probe stream | events | bytes | frame + decode + measure, median | p99 | per event |`,
);
console.log(`|---|---|---|---|---|---|`);
console.log(
  `| OpenAI chat, ${tokens} tokens, 1,460-byte reads | ${256 + 2} | ${Buffer.byteLength(stream)} | ${probeAt(0.5).toFixed(3)} ms | ${probeAt(0.99).toFixed(3)} ms | ${((probeAt(0.5) * 1000) / 258).toFixed(1)} µs |`,
);
