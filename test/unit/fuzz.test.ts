import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dcgm as dcgm_ } from '../../agent/collectors/dcgm/index.js';
import { parseKernelLine } from '../../agent/collectors/kernel-events/parse.js';
import { ALL_FIELDS } from '../../agent/collectors/nvidia-smi/fields.js';
import { parseGpuLine, type FieldSelection } from '../../agent/collectors/nvidia-smi/parse.js';
import { mapVllm } from '../../agent/collectors/runtimes/adapters/vllm.js';
import { TargetFolder } from '../../agent/collectors/runtimes/fold.js';
import { ConfigError, parseConfig, parseConfigText } from '../../agent/config/load.js';
import { systemTimers } from '../../agent/core/clock.js';
import type { Collector } from '../../agent/core/collector.js';
import { Exposition } from '../../agent/core/exposition.js';
import { createLogger } from '../../agent/core/logger.js';
import { counter, gauge } from '../../agent/core/metric.js';
import { parseExposition } from '../../agent/core/prom-text.js';
import { Scraper } from '../../agent/core/scrape.js';
import { defineSelfMetrics } from '../../agent/core/self-metrics.js';
import { StateLog } from '../../agent/core/state-log.js';
import { DIALECTS } from '../../agent/shared/dialect.js';
import { GENERATION_APIS } from '../../agent/shared/generation-api.js';
import { ndjsonFramer, sseFramer } from '../../agent/shared/framing.js';
import { StreamMeasure } from '../../agent/probe/measure.js';
import { project, readCapture } from '../../demo/fake/capture.js';
import { collectorDeps } from '../helpers/collector-deps.js';
import { newGpuView } from '../helpers/gpu-view.js';
import { fixture, readFixture } from '../helpers/fixtures.js';

/**
 * Property tests: random and mutated real inputs never crash a parser, and never make the agent
 * export a non-finite value or a negative counter. Fixed seed, bounded runs: the same cases
 * every time, in well under a second each.
 */
const RUNS = { seed: 20261122, numRuns: 300 };

/** Strings that break naive number parsing, mixed into the mutations. */
const NASTY = fc.constantFrom(
  '',
  ' ',
  '-1',
  '-0',
  '1e309',
  '-1e309',
  'NaN',
  'nan',
  'Inf',
  '+Inf',
  '-Inf',
  '[N/A]',
  '[Not Supported]',
  '0x10',
  '1,5',
  '18446744073709551615',
  '9223372036854775794',
  '\u0000',
  '"',
  '{',
  '}',
  '\n',
  'é',
);

/** A real text with some of its characters replaced, deleted or duplicated, or nasty tokens put in. */
function mutated(text: string): fc.Arbitrary<string> {
  const edit = fc.tuple(
    fc.nat({ max: Math.max(0, text.length - 1) }),
    fc.nat({ max: 8 }),
    fc.oneof(NASTY, fc.string({ maxLength: 6 })),
  );
  return fc.array(edit, { minLength: 1, maxLength: 8 }).map((edits) => {
    let out = text;
    for (const [at, cut, insert] of edits) out = out.slice(0, at) + insert + out.slice(at + cut);
    return out;
  });
}

describe('the config loader', () => {
  it('turns any JSON value into a config or a ConfigError, nothing else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        try {
          parseConfig(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
        }
      }),
      RUNS,
    );
  });

  it('turns any mutated YAML config into a config or a ConfigError', () => {
    const yaml = [
      'listen: 127.0.0.1:9500',
      'collectors:',
      '  timeout_ms: 5000',
      '  runtimes:',
      '    targets: [{ kind: vllm, url: "http://127.0.0.1:8000", name: a }]',
      'probe: { interval_s: 60, canary: { prompts: [{ name: a, prompt: q, expect: "\\\\b42\\\\b" }] } }',
      'cost: { hardware: { capex_usd: 1000 }, energy: { price_usd_per_kwh: 0.1 } }',
    ].join('\n');
    fc.assert(
      fc.property(mutated(yaml), (text) => {
        try {
          parseConfigText(text, 'fuzz.yaml');
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
        }
      }),
      RUNS,
    );
  });
});

describe('the nvidia-smi parser', () => {
  const capture = readCapture(
    fixture('nvidia-smi', 'nvidia-smi_query-gpu_csv_h100-80gb-hbm3_drv590.48.01_load.csv'),
  );
  const selection: FieldSelection = {
    columns: ALL_FIELDS.flatMap((spec) => {
      const name = spec.names.find((n) => capture.fields.includes(n));
      return name ? [{ spec, name }] : [];
    }),
  };
  const names = selection.columns.map((c) => c.name);
  const projected = project(capture, capture.rows[0] ?? [], names);
  if (!('line' in projected)) throw new Error('the capture lacks a selected field');
  const line = projected.line;

  it('classifies any mutated row without throwing, with only finite values and no negative counter', () => {
    // Random cells, but a valid index and UUID where the selection has them: rows, not garbage.
    const cells = fc
      .array(fc.oneof(NASTY, fc.string({ maxLength: 8 }), fc.double().map(String)), {
        minLength: names.length,
        maxLength: names.length,
      })
      .map((c) =>
        c.map((cell, i) =>
          names[i] === 'index'
            ? '0'
            : names[i] === 'uuid'
              ? 'GPU-00000000-0000-0000-0000-000000000000'
              : cell,
        ),
      );
    let rows = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          mutated(line),
          cells.map((c) => c.join(', ')),
          fc.string(),
        ),
        (text) => {
          const parsed = parseGpuLine(text, selection);
          if (parsed.kind !== 'row') return;
          rows++;
          for (const { field, value } of parsed.row.values) {
            expect(Number.isFinite(value), `${field.key}: ${value}`).toBe(true);
            if (field.metric.type === 'counter') expect(value, field.key).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      RUNS,
    );
    // The property held over real rows, not only over lines rejected as garbage.
    expect(rows).toBeGreaterThan(RUNS.numRuns / 4);
  });
});

describe('the exposition parser and a runtime adapter', () => {
  const text = readFixture('runtimes', 'vllm_metrics_v1_constructed_two-engines.txt');

  it('never throws, and what the agent exports from it is finite, its counters never negative', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(text), fc.string({ maxLength: 400 })), (input) => {
        const exposition = parseExposition(input);
        const folded = new TargetFolder().fold(mapVllm(exposition, {}, 't').samples);
        for (const [def, samples] of folded) {
          for (const s of samples) {
            expect(Number.isFinite(s.value), `${def.name} ${s.value}`).toBe(true);
            if (def.type !== 'gauge') expect(s.value, def.name).toBeGreaterThanOrEqual(0);
            for (const c of s.histogram?.counts ?? []) {
              expect(Number.isFinite(c) && c >= 0, `${def.name} bucket ${c}`).toBe(true);
            }
          }
        }
      }),
      RUNS,
    );
  });

  it('a dcgm-exporter answer with any values in it never makes the agent export a non-finite value or a negative counter', async () => {
    const dcgm = readFixture('dcgm', 'dcgm-exporter_metrics_constructed_h100x3.txt');
    const lines = dcgm.split('\n');
    const sampleLines = lines.flatMap((l, i) => (l.startsWith('DCGM_') ? [i] : []));
    // Values, not only random bytes: each edit replaces one sample's value with a nasty token.
    const answers = fc.oneof(
      fc
        .array(fc.tuple(fc.constantFrom(...sampleLines), NASTY), { minLength: 1, maxLength: 30 })
        .map((edits) => {
          const out = [...lines];
          for (const [at, token] of edits)
            out[at] = (out[at] ?? '').replace(/ \S+$/, ` ${token || '-5'}`);
          return out.join('\n');
        }),
      mutated(dcgm),
    );
    await fc.assert(
      fc.asyncProperty(answers, async (body) => {
        const exposition = new Exposition({ processMetrics: false });
        const errors = defineSelfMetrics(exposition, 'fuzz');
        const deps = collectorDeps({ http: { get: async () => ({ status: 200, body }) }, errors });
        const collectors = dcgm_.create(
          parseConfig({ collectors: { dcgm: { url: 'http://dcgm:9400/metrics' } } }),
          deps,
        );
        // DCGM reports to the GPU view, which writes what it read.
        const scraper = new Scraper(
          collectors as Collector[],
          exposition,
          { clock: deps.clock, timers: deps.timers, stateLog: deps.stateLog, errors, waitMs: 1000 },
          [newGpuView()],
        );
        await scraper.scrape();
        const parsed = parseExposition(await exposition.render());
        for (const family of parsed.families.values())
          for (const sample of family.samples) {
            expect(Number.isFinite(sample.value), `${sample.name} ${sample.value}`).toBe(true);
            if (family.type === 'counter')
              expect(sample.value, sample.name).toBeGreaterThanOrEqual(0);
          }
      }),
      { ...RUNS, numRuns: 100 },
    );
  });
});

describe('the scrape, whatever a collector emits', () => {
  const COUNTS = counter('fuzz_events_total', 'Any counter.', ['i']);
  const LEVEL = gauge('fuzz_level', 'Any gauge.', ['i']);

  it('exports only finite values and never a negative counter', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.boolean(), fc.double()), { maxLength: 20 }),
        async (values) => {
          const exposition = new Exposition({ processMetrics: false });
          const errors = defineSelfMetrics(exposition, 'fuzz');
          const quiet = createLogger('error', { write: () => undefined });
          const scraper = new Scraper(
            [
              {
                name: 'fuzz',
                metrics: [COUNTS, LEVEL],
                collect: (out) =>
                  values.forEach(([isCounter, v], i) =>
                    out.emit(isCounter ? COUNTS : LEVEL, { i: String(i) }, v),
                  ),
                status: () => ({ state: 'ok', detail: '' }),
              },
            ],
            exposition,
            {
              clock: { monotonicMs: () => 0, epochMs: () => 0 },
              timers: systemTimers,
              stateLog: new StateLog(quiet),
              errors,
              waitMs: 1000,
            },
          );
          await scraper.scrape();
          const parsed = parseExposition(await exposition.render());
          for (const family of parsed.families.values())
            for (const sample of family.samples) {
              expect(Number.isFinite(sample.value), `${sample.name} ${sample.value}`).toBe(true);
              if (family.type === 'counter')
                expect(sample.value, sample.name).toBeGreaterThanOrEqual(0);
            }
        },
      ),
      RUNS,
    );
  });
});

describe('the probe stream parser', () => {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const stream = [
    chunk({ role: 'assistant', content: '' }),
    ': ping\n\n',
    chunk({ content: '1 2' }),
    chunk({ content: ' 3' }, 'length'),
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 3 } })}\n\n`,
    'data: [DONE]\n\n',
  ].join('');

  it('never throws on any bytes in any split, and measures only finite, non-negative figures', () => {
    const input = fc.tuple(
      fc.constantFrom(...GENERATION_APIS),
      fc.oneof(
        mutated(stream),
        fc.string({ maxLength: 300 }),
        fc.jsonValue().map((v) => `data: ${JSON.stringify(v)}\n\n`),
      ),
      fc.array(fc.nat({ max: 400 }), { maxLength: 10 }),
    );
    fc.assert(
      fc.property(input, ([api, text, cuts]) => {
        const dialect = DIALECTS[api];
        const measure = new StreamMeasure(0);
        let now = 0;
        const sink = {
          payload: (v: unknown) => measure.event(now, dialect.read(v)),
          done: () => undefined,
          keepAlive: () => undefined,
          errorEvent: () => undefined,
          malformed: () => undefined,
        };
        const framer = dialect.framing === 'sse' ? sseFramer(sink) : ndjsonFramer(sink);
        let from = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          now += 1;
          framer.push(text.slice(from, cut));
          from = Math.max(from, cut);
        }
        framer.push(text.slice(from));
        framer.end();
        const m = measure.result();
        for (const key of [
          'firstEventMs',
          'ttftMs',
          'e2eMs',
          'tpotMs',
          'maxGapMs',
          'outputTokens',
          'inputTokens',
        ] as const) {
          const value = m[key];
          if (value !== undefined) {
            expect(Number.isFinite(value), `${key} ${value}`).toBe(true);
            expect(value, key).toBeGreaterThanOrEqual(0);
          }
        }
        for (const value of Object.values(m.server ?? {}))
          if (value !== undefined)
            expect(Number.isFinite(value) && value >= 0, `server ${value}`).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('the kernel-log parser', () => {
  const lines = readFixture(
    'kernel',
    'kernel-log_nvrm-xid-79-fallen-off-bus_plus-nvswitch-sxid_dmesg.log',
  )
    .split('\n')
    .filter((l) => l.includes('NVRM') || l.includes('Killed process'));

  it('classifies any mutated line without throwing; an Xid is a finite code', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom(...lines).chain((l) => mutated(l)),
          fc.string(),
        ),
        (line) => {
          const event = parseKernelLine(line);
          if (event?.kind === 'xid') {
            expect(Number.isSafeInteger(event.xid), String(event.xid)).toBe(true);
            expect(event.xid).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      RUNS,
    );
  });
});
