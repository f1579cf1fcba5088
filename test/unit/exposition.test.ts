import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Exposition } from '../../agent/core/exposition.js';
import { counter, gauge, histogram, type MetricDef, type Sample } from '../../agent/core/metric.js';

const TEMPERATURE = gauge('t_celsius', 'A temperature.\nSecond line with a \\ backslash.', [
  'gpu',
  'path',
]);
const ERRORS = counter('t_errors_total', 'Errors.', ['reason']);
const UP = gauge('t_up', 'Label-less.');
const TTFT = histogram('t_ttft_seconds', 'Time to first token.', ['model'], [0.1, 0.5]);

function exposition(): Exposition {
  const e = new Exposition({ processMetrics: false });
  for (const def of [TEMPERATURE, ERRORS, UP, TTFT]) e.define(def);
  return e;
}

const publish = (e: Exposition, def: MetricDef, samples: Sample[]) =>
  e.publish([def], new Map([[def, samples]]));

describe('Exposition', () => {
  it('writes gauges and counters byte for byte as prom-client does, escapes included', async () => {
    const samples: Sample[] = [
      { labels: { gpu: '0', path: 'C:\\models\\"llama"\nv2' }, value: 41.5 },
      { labels: { gpu: '1', path: '' }, value: 1e21 },
      { labels: { gpu: '2', path: '/x' }, value: -0.000001 },
    ];
    const registry = new Registry();
    const g = new Gauge({
      ...TEMPERATURE,
      labelNames: [...TEMPERATURE.labelNames],
      registers: [registry],
    });
    for (const s of samples) g.set(s.labels, s.value);
    const c = new Counter({ ...ERRORS, labelNames: [...ERRORS.labelNames], registers: [registry] });
    c.inc({ reason: 'timeout' }, 3);
    const u = new Gauge({ name: UP.name, help: UP.help, registers: [registry] });
    u.set(1);

    const e = new Exposition({ processMetrics: false });
    for (const def of [TEMPERATURE, ERRORS, UP]) e.define(def);
    publish(e, TEMPERATURE, samples);
    e.count(ERRORS, { reason: 'timeout' }, 3);
    publish(e, UP, [{ labels: {}, value: 1 }]);
    expect(await e.render()).toBe(await registry.metrics());
  });

  it('writes a histogram with cumulative buckets, +Inf as the count, then sum and count', async () => {
    const e = exposition();
    publish(e, TTFT, [
      { labels: { model: 'm' }, value: 4, histogram: { counts: [1, 3], sum: 1.25, count: 4 } },
    ]);
    expect(await e.render()).toContain(
      [
        '# HELP t_ttft_seconds Time to first token.',
        '# TYPE t_ttft_seconds histogram',
        't_ttft_seconds_bucket{model="m",le="0.1"} 1',
        't_ttft_seconds_bucket{model="m",le="0.5"} 3',
        't_ttft_seconds_bucket{model="m",le="+Inf"} 4',
        't_ttft_seconds_sum{model="m"} 1.25',
        't_ttft_seconds_count{model="m"} 4',
      ].join('\n'),
    );
  });

  it('a family kept from the last scrape is written again as soon as anything in it changes', async () => {
    const e = exposition();
    const line = async (prefix: string) =>
      (await e.render()).split('\n').filter((l) => l.startsWith(prefix));
    publish(e, TEMPERATURE, [{ labels: { gpu: '0', path: 'a' }, value: 40 }]);
    publish(e, TTFT, [
      { labels: { model: 'm' }, value: 1, histogram: { counts: [1, 1], sum: 0.05, count: 1 } },
    ]);
    expect(await line('t_celsius{')).toEqual(['t_celsius{gpu="0",path="a"} 40']);
    // The same samples: the same text.
    publish(e, TEMPERATURE, [{ labels: { gpu: '0', path: 'a' }, value: 40 }]);
    expect(await line('t_celsius{')).toEqual(['t_celsius{gpu="0",path="a"} 40']);
    // A value, a series more, a series gone, a bucket, a count between scrapes.
    publish(e, TEMPERATURE, [{ labels: { gpu: '0', path: 'a' }, value: 41 }]);
    expect(await line('t_celsius{')).toEqual(['t_celsius{gpu="0",path="a"} 41']);
    publish(e, TEMPERATURE, [
      { labels: { gpu: '0', path: 'a' }, value: 41 },
      { labels: { gpu: '1', path: 'a' }, value: 39 },
    ]);
    expect(await line('t_celsius{')).toHaveLength(2);
    publish(e, TEMPERATURE, [{ labels: { gpu: '1', path: 'a' }, value: 39 }]);
    expect(await line('t_celsius{')).toEqual(['t_celsius{gpu="1",path="a"} 39']);
    publish(e, TEMPERATURE, [{ labels: { gpu: '1', path: 'b' }, value: 39 }]);
    expect(await line('t_celsius{')).toEqual(['t_celsius{gpu="1",path="b"} 39']);
    publish(e, TTFT, [
      { labels: { model: 'm' }, value: 1, histogram: { counts: [0, 1], sum: 0.3, count: 1 } },
    ]);
    expect(await line('t_ttft_seconds_bucket{model="m",le="0.1"}')).toEqual([
      't_ttft_seconds_bucket{model="m",le="0.1"} 0',
    ]);
    e.count(ERRORS, { reason: 'bad_line' });
    e.count(ERRORS, { reason: 'bad_line' }, 2);
    expect(await line('t_errors_total{')).toEqual(['t_errors_total{reason="bad_line"} 3']);
    // Nothing published: no series, the family's HELP and TYPE alone.
    publish(e, TEMPERATURE, []);
    expect(await line('t_celsius')).toEqual([]);
    expect(await e.render()).toContain('# TYPE t_celsius gauge\n\n');
  });

  it('refuses a label its family does not declare, and a name defined twice', () => {
    const e = exposition();
    expect(() => publish(e, TEMPERATURE, [{ labels: { gpu: '0', card: 'x' }, value: 1 }])).toThrow(
      /t_celsius has no label card/,
    );
    expect(() => e.define(gauge('t_up', 'Another.'))).toThrow(/t_up is defined twice/);
  });
});
