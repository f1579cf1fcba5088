import { describe, expect, it } from 'vitest';
import { mapVllm } from '../../agent/collectors/runtimes/adapters/vllm.js';
import {
  REQUEST_BUCKETS,
  TTFT_BUCKETS,
  rebucket,
} from '../../agent/collectors/runtimes/buckets.js';
import { TargetFolder } from '../../agent/collectors/runtimes/fold.js';
import * as M from '../../agent/collectors/runtimes/metrics.js';
import type { RawSample } from '../../agent/collectors/runtimes/reading.js';
import { modelName } from '../../agent/shared/model-name.js';
import { MetricsView, type SourceHistogram } from '../../agent/collectors/runtimes/view.js';
import { parseExposition } from '../../agent/core/prom-text.js';
import { exposition, Folded } from '../helpers/runtime-reading.js';

/** A deterministic pseudo-random source, so a failing case can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomHistogram(next: () => number): SourceHistogram {
  const edges = [
    ...new Set(
      Array.from({ length: 1 + Math.floor(next() * 30) }, () => {
        const pick = next();
        // Half the edges from the canonical set, half anywhere: both exact and moved cases.
        return pick < 0.5
          ? (TTFT_BUCKETS[Math.floor(next() * TTFT_BUCKETS.length)] as number)
          : Number((next() * 3000).toPrecision(3));
      }),
    ),
  ].sort((a, b) => a - b);
  let cumulative = 0;
  const buckets = edges.map((le) => ({ le, count: (cumulative += Math.floor(next() * 50)) }));
  const count = cumulative + Math.floor(next() * 10);
  return { labels: {}, buckets, sum: next() * 1000, count };
}

describe('re-bucketing onto canonical edges', () => {
  it('keeps counts monotone, _count and _sum whole, and never over-counts (1000 random histograms)', () => {
    const next = random(42);
    for (let i = 0; i < 1000; i++) {
      const source = randomHistogram(next);
      const { value, exact } = rebucket(source, TTFT_BUCKETS);
      expect(value.count).toBe(source.count);
      expect(value.sum).toBe(source.sum);
      for (let j = 1; j < value.counts.length; j++)
        expect(value.counts[j]).toBeGreaterThanOrEqual(value.counts[j - 1] as number);
      expect(value.counts.at(-1)).toBeLessThanOrEqual(value.count);
      TTFT_BUCKETS.forEach((edge, j) => {
        // The true count at `edge` is at least the source's count at its last edge <= edge.
        const below = source.buckets.filter((b) => b.le <= edge).at(-1)?.count ?? 0;
        const sourceEdge = source.buckets.find((b) => b.le === edge);
        if (sourceEdge) expect(value.counts[j]).toBe(sourceEdge.count);
        else expect(value.counts[j]).toBe(below);
      });
      const allShared = TTFT_BUCKETS.every((e) => source.buckets.some((b) => b.le === e));
      expect(exact).toBe(allShared);
    }
  });

  it('reads edges written differently ("1.0", "1e0") as the canonical ones, from the text', () => {
    const text =
      '# TYPE h histogram\nh_bucket{le="0.3"} 1\nh_bucket{le="1e0"} 4\nh_bucket{le="+Inf"} 5\nh_sum 2\nh_count 5\n';
    const source = new MetricsView(parseExposition(text)).histogram('h')?.series[0];
    if (!source) throw new Error('no histogram read');
    const { value } = rebucket(source, REQUEST_BUCKETS);
    expect(value.counts[REQUEST_BUCKETS.indexOf(0.3)]).toBe(1);
    expect(value.counts[REQUEST_BUCKETS.indexOf(0.5)]).toBe(1); // no 0.5 edge: 0.3's count
    expect(value.counts[REQUEST_BUCKETS.indexOf(1)]).toBe(4);
    expect(value.counts.at(-1)).toBe(4);
    expect(value.count).toBe(5);
    expect(value.sum).toBe(2);
  });

  it('converts units before comparing edges (Triton milliseconds)', () => {
    const { value, exact } = rebucket(
      {
        labels: {},
        buckets: [
          { le: 100, count: 3 },
          { le: 1000, count: 7 },
        ],
        sum: 2500,
        count: 8,
      },
      [0.1, 1],
      1e-3,
    );
    expect(value).toEqual({ counts: [3, 7], sum: 2.5, count: 8 });
    expect(exact).toBe(true);
  });
});

function counterSample(key: string, value: number, model = 'm'): RawSample {
  return {
    kind: 'counter',
    def: M.PROMPT_TOKENS,
    labels: { runtime: 'r', target: 't', model },
    key,
    value,
  };
}

describe('counters through runtime restarts', () => {
  it('carries on from where it was when the runtime restarts: a reset is a reset, never a fall', () => {
    const folder = new TargetFolder();
    const value = (samples: RawSample[]) => folder.fold(samples).get(M.PROMPT_TOKENS)?.[0]?.value;
    expect(value([counterSample('a', 100)])).toBe(100);
    expect(value([counterSample('a', 150)])).toBe(150);
    expect(value([counterSample('a', 20)])).toBe(170); // restarted: 20 new since
    expect(value([counterSample('a', 25)])).toBe(175);
  });

  it('sees one engine of two restart on its own', () => {
    const folder = new TargetFolder();
    const value = (a: number, b: number) =>
      folder.fold([counterSample('e0', a), counterSample('e1', b)]).get(M.PROMPT_TOKENS)?.[0]
        ?.value;
    expect(value(100, 50)).toBe(150);
    expect(value(110, 5)).toBe(165); // the sum fell, but e0 rose 10 and e1 counted 5 anew
  });

  it('carries on when the runtime switches from V0 to V1 names', () => {
    const folder = new TargetFolder();
    const v0 = new Folded(
      mapVllm(exposition('vllm_metrics_v0_constructed_opt-125m.txt'), {}, 't'),
      folder,
    );
    const before = v0.value(M.GENERATION_TOKENS);
    const v1Text =
      '# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total{engine="0",model_name="facebook/opt-125m"} 10\n';
    const v1 = new Folded(mapVllm(parseExposition(v1Text), {}, 't'), folder);
    expect(v1.value(M.GENERATION_TOKENS)).toBe(before + 10);
  });

  it('keeps histograms cumulative through a reset', () => {
    const folder = new TargetFolder();
    const h = (counts: number[], sum: number, count: number): RawSample => ({
      kind: 'histogram',
      def: M.TIME_TO_FIRST_TOKEN,
      labels: { model: 'm' },
      key: 'k',
      value: { counts, sum, count },
    });
    folder.fold([h([1, 3], 2, 4)]);
    const after = folder.fold([h([0, 1], 0.5, 1)]).get(M.TIME_TO_FIRST_TOKEN)?.[0]?.histogram;
    expect(after).toEqual({ counts: [1, 4], sum: 2.5, count: 5 });
  });

  it('drops a series the runtime no longer shows', () => {
    const folder = new TargetFolder();
    folder.fold([counterSample('a', 5, 'old')]);
    const next = folder.fold([counterSample('b', 7, 'new')]).get(M.PROMPT_TOKENS);
    expect(next?.map((s) => s.labels.model)).toEqual(['new']);
  });
});

describe('model names', () => {
  it('reduces a filesystem path to its last part and keeps hub ids whole', () => {
    expect(modelName('/models/Qwen2.5-7B-Instruct/')).toBe('Qwen2.5-7B-Instruct');
    expect(modelName('./weights/llama.gguf')).toBe('llama.gguf');
    expect(modelName('C:\\models\\phi-3.gguf')).toBe('phi-3.gguf');
    expect(modelName('meta-llama/Llama-3.1-8B-Instruct')).toBe('meta-llama/Llama-3.1-8B-Instruct');
    expect(modelName('gemma3:latest')).toBe('gemma3:latest');
    expect(modelName('  ')).toBeUndefined();
  });
});
