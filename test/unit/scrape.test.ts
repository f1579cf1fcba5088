import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  channel,
  CollectorError,
  type Collector,
  type Emitter,
  type Stage,
} from '../../agent/core/collector.js';
import { Exposition } from '../../agent/core/exposition.js';
import { createLogger } from '../../agent/core/logger.js';
import { counter, gauge } from '../../agent/core/metric.js';
import { HAND_OVER_GRACE_MS, Scraper } from '../../agent/core/scrape.js';
import { defineSelfMetrics } from '../../agent/core/self-metrics.js';
import { StateLog } from '../../agent/core/state-log.js';
import { seriesByKey } from '../helpers/agent-process.js';
import { ManualTimers } from '../helpers/manual-timers.js';

const READY = gauge('test_ready', 'A label-less gauge.');
const TEMPS = gauge('test_temperature_celsius', 'By sensor.', ['sensor']);
const EVENTS = counter('test_events_total', 'A mirrored counter.', ['kind']);

const OWN = { test_ready: [READY], test_temperature: [TEMPS], test_events: [EVENTS] };

function collector(
  name: keyof typeof OWN,
  collect: (out: Emitter, signal: AbortSignal) => Promise<void> | void,
): Collector {
  return { name, metrics: OWN[name], collect, status: () => ({ state: 'ok', detail: '' }) };
}

function setup(
  collectors: Collector[],
  waitMs = 100,
  maxSeriesPerFamily?: number,
  stages: Stage[] = [],
) {
  const exposition = new Exposition({ processMetrics: false });
  const errors = defineSelfMetrics(exposition, '1.2.3');
  const logs: string[] = [];
  const logger = createLogger('info', { write: (line: string) => logs.push(line) });
  const timers = new ManualTimers(1_700_000_000_000);
  const scraper = new Scraper(
    collectors,
    exposition,
    {
      clock: timers,
      timers,
      stateLog: new StateLog(logger),
      errors,
      waitMs,
      ...(maxSeriesPerFamily !== undefined ? { maxSeriesPerFamily } : {}),
    },
    stages,
  );
  const render = async () => seriesByKey(await exposition.render());
  return {
    logs,
    scraper,
    timers,
    async scrape() {
      await scraper.scrape();
      return render();
    },
    /** A scrape while time moves on: it must have ended within `ms`. */
    async scrapeOver(ms: number) {
      let ended = false;
      const scraped = scraper.scrape().then(() => (ended = true));
      await timers.advance(ms - 1);
      const early = ended;
      await timers.advance(1);
      await scraped;
      return { early, series: await render() };
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Scraper', () => {
  it('publishes samples and reports success, duration and last success per collector', async () => {
    const { scrape } = setup([
      collector('test_temperature', (out) => {
        out.emit(TEMPS, { sensor: 'gpu' }, 60);
        out.emit(TEMPS, { sensor: 'memory' }, 55);
      }),
    ]);
    const s = await scrape();
    expect(s.get('test_temperature_celsius{sensor="gpu"}')).toBe(60);
    expect(s.get('inferwatch_collector_success{collector="test_temperature"}')).toBe(1);
    expect(
      s.get('inferwatch_collector_last_success_timestamp_seconds{collector="test_temperature"}'),
    ).toBe(1_700_000_000);
    expect(s.has('inferwatch_collector_duration_seconds{collector="test_temperature"}')).toBe(true);
    expect(
      s.get('inferwatch_build_info{version="1.2.3",node_version="' + process.version + '"}'),
    ).toBe(1);
  });

  it('a series that vanishes is gone at the next scrape; a label-less gauge with no data has no series', async () => {
    let round = 0;
    const { scrape } = setup([
      collector('test_ready', (out) => {
        if (round++ === 0) out.emit(READY, {}, 1);
      }),
      collector('test_temperature', (out) => {
        out.emit(TEMPS, { sensor: 'gpu' }, 60);
        if (round < 2) out.emit(TEMPS, { sensor: 'memory' }, 55);
      }),
    ]);
    const first = await scrape();
    expect(first.get('test_ready')).toBe(1);
    expect(first.get('test_temperature_celsius{sensor="memory"}')).toBe(55);
    const second = await scrape();
    expect(second.has('test_ready')).toBe(false);
    expect(second.has('test_temperature_celsius{sensor="memory"}')).toBe(false);
    expect(second.get('test_temperature_celsius{sensor="gpu"}')).toBe(60);
  });

  it('leaves out, for every collector, a non-finite value or a negative counter, and counts it', async () => {
    const { scrape } = setup([
      collector('test_events', (out) => {
        out.emit(EVENTS, { kind: 'lie' }, -1);
        out.emit(EVENTS, { kind: 'inf' }, Number.POSITIVE_INFINITY);
        out.emit(EVENTS, { kind: 'ok' }, 3);
      }),
      collector('test_temperature', (out) => {
        out.emit(TEMPS, { sensor: 'nan' }, Number.NaN);
        out.emit(TEMPS, { sensor: 'cold' }, -5); // a gauge may be negative
      }),
    ]);
    const m = await scrape();
    expect(m.get('test_events_total{kind="ok"}')).toBe(3);
    expect(m.has('test_events_total{kind="lie"}')).toBe(false);
    expect(m.has('test_events_total{kind="inf"}')).toBe(false);
    expect(m.has('test_temperature_celsius{sensor="nan"}')).toBe(false);
    expect(m.get('test_temperature_celsius{sensor="cold"}')).toBe(-5);
    expect(
      m.get('inferwatch_source_errors_total{collector="test_events",reason="bad_value"}'),
    ).toBe(2);
    expect(
      m.get('inferwatch_source_errors_total{collector="test_temperature",reason="bad_value"}'),
    ).toBe(1);
    expect(m.get('inferwatch_collector_success{collector="test_events"}')).toBe(1);
  });

  it('mirrors a counter exactly, resets included', async () => {
    const values = [0.1, 0.3, 0.3, 0.2];
    const { scrape } = setup([
      collector('test_events', (out) => out.emit(EVENTS, { kind: 'a' }, values.shift()!)),
    ]);
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await scrape()).get('test_events_total{kind="a"}'));
    expect(seen).toEqual([0.1, 0.3, 0.3, 0.2]);
  });

  it('a throwing collector loses only its own series, counts the error and logs once', async () => {
    let fail = false;
    let asked = 0;
    const temperature = collector('test_temperature', (out) => {
      if (fail) throw new CollectorError('read_failed', 'sensor gone');
      out.emit(TEMPS, { sensor: 'gpu' }, 60);
    });
    // What to do is asked of the source when the failure is logged, not at every scrape.
    temperature.status = () => {
      asked++;
      return { state: 'failing', detail: 'sensor gone', todo: 'plug the sensor back' };
    };
    const { scrape, logs } = setup([
      temperature,
      collector('test_ready', (out) => out.emit(READY, {}, 1)),
    ]);
    await scrape();
    fail = true;
    const s = await scrape();
    await scrape();
    expect(s.has('test_temperature_celsius{sensor="gpu"}')).toBe(false);
    expect(s.get('test_ready')).toBe(1);
    expect(s.get('inferwatch_collector_success{collector="test_temperature"}')).toBe(0);
    expect(
      (await scrape()).get(
        'inferwatch_source_errors_total{collector="test_temperature",reason="read_failed"}',
      ),
    ).toBe(4 - 1);
    expect(logs.filter((l) => l.includes('sensor gone'))).toHaveLength(1);
    expect(logs.find((l) => l.includes('sensor gone'))).toContain(
      'What to do: plug the sensor back',
    );
    expect(asked).toBe(1);
    fail = false;
    await scrape();
    expect(logs.filter((l) => l.includes('recovered'))).toHaveLength(1);
  });

  it('a hung collector is cut off at its timeout and not started again while it hangs', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const { scrape, scrapeOver } = setup(
      [
        collector('test_temperature', async (out, signal) => {
          calls++;
          out.emit(TEMPS, { sensor: 'gpu' }, 1);
          await new Promise<void>((resolve) => {
            release = resolve;
            signal.addEventListener('abort', () => undefined);
          });
        }),
        collector('test_ready', (out) => out.emit(READY, {}, 1)),
      ],
      50,
    );
    // Cut off at the wait plus the grace, not a moment before, and not later.
    const { early, series: first } = await scrapeOver(50 + HAND_OVER_GRACE_MS);
    expect(early).toBe(false);
    expect(first.has('test_temperature_celsius{sensor="gpu"}')).toBe(false);
    expect(first.get('inferwatch_collector_success{collector="test_temperature"}')).toBe(0);
    expect(
      first.get('inferwatch_source_errors_total{collector="test_temperature",reason="timeout"}'),
    ).toBe(1);
    expect(first.get('test_ready')).toBe(1);
    const second = await scrape();
    expect(calls).toBe(1);
    expect(
      second.get('inferwatch_source_errors_total{collector="test_temperature",reason="busy"}'),
    ).toBe(1);
    release();
    await new Promise((r) => setImmediate(r));
    // Released, it runs again (and hangs again: cut off again).
    await scrapeOver(50 + HAND_OVER_GRACE_MS);
    expect(calls).toBe(2);
  });

  it('a collector that emits garbage (a non-finite value, an undeclared family) does not break the scrape', async () => {
    const { scrape } = setup([
      collector('test_temperature', (out) => {
        out.emit(TEMPS, { sensor: 'gpu' }, Number.NaN);
        out.emit(TEMPS, { sensor: 'memory' }, Infinity);
      }),
      collector('test_ready', (out) => {
        out.emit(TEMPS, { sensor: 'x' }, 1);
      }),
    ]);
    const s = await scrape();
    expect(s.get('inferwatch_collector_success{collector="test_temperature"}')).toBe(1);
    expect(s.has('test_temperature_celsius{sensor="gpu"}')).toBe(false);
    expect(s.get('inferwatch_collector_success{collector="test_ready"}')).toBe(0);
    expect(s.get('inferwatch_source_errors_total{collector="test_ready",reason="error"}')).toBe(1);
  });

  it('a degraded collector keeps its samples but reports success 0', async () => {
    const { scrape } = setup([
      collector('test_temperature', (out) => {
        out.emit(TEMPS, { sensor: 'gpu' }, 60);
        out.degrade('gpu_unavailable', 'GPU 1 is lost');
      }),
    ]);
    const s = await scrape();
    expect(s.get('test_temperature_celsius{sensor="gpu"}')).toBe(60);
    expect(s.get('inferwatch_collector_success{collector="test_temperature"}')).toBe(0);
  });

  it('runs a stage after the collectors on what they reported, in any list order; a collector that fails reports nothing', async () => {
    const READINGS = channel<{ from: string; sensor: string; value: number }>('readings');
    const SUMS = channel<number>('sums');
    const reader = (name: string, collect: (out: Emitter) => void): Collector => ({
      name,
      metrics: [],
      collect,
      status: () => ({ state: 'ok', detail: '' }),
    });
    let secondFails = false;
    const first = reader('first', (out) => {
      out.report(READINGS, { from: 'first', sensor: 'gpu', value: 60 });
    });
    const second = reader('second', (out) => {
      if (secondFails) throw new CollectorError('down', 'gone');
      out.report(READINGS, { from: 'second', sensor: 'gpu', value: 99 });
      out.report(READINGS, { from: 'second', sensor: 'memory', value: 55 });
    });
    // The merge: per sensor, the first reader speaks.
    const merge: Stage<{ from: string; sensor: string; value: number }> = {
      name: 'merge',
      metrics: [TEMPS],
      input: READINGS,
      output: [SUMS],
      merge(reports, out) {
        const ranked = [...reports].sort((a, b) => a.from.localeCompare(b.from));
        const spoken = new Set<string>();
        for (const r of ranked) {
          if (spoken.has(r.sensor)) continue;
          spoken.add(r.sensor);
          out.emit(TEMPS, { sensor: r.sensor }, r.value);
        }
        out.report(SUMS, ranked.length);
      },
      status: () => ({ state: 'ok', detail: '' }),
    };
    // A stage fed by the merge, listed before it.
    const count: Stage<number> = {
      name: 'count',
      metrics: [EVENTS],
      input: SUMS,
      merge: (sums, out) => out.emit(EVENTS, { kind: 'readings' }, sums[0] ?? -1),
      status: () => ({ state: 'ok', detail: '' }),
    };
    for (const [collectors, stages] of [
      [
        [first, second],
        [merge, count],
      ],
      [
        [second, first],
        [count, merge],
      ],
    ] as const) {
      secondFails = false;
      const { scrape } = setup([...collectors], 100, undefined, [...stages]);
      const s = await scrape();
      expect(s.get('test_temperature_celsius{sensor="gpu"}')).toBe(60);
      expect(s.get('test_temperature_celsius{sensor="memory"}')).toBe(55);
      expect(s.get('test_events_total{kind="readings"}')).toBe(3);
      expect(s.get('inferwatch_collector_success{collector="merge"}')).toBe(1);
      expect(s.has('inferwatch_collector_duration_seconds{collector="count"}')).toBe(true);
      secondFails = true;
      const after = await scrape();
      expect(after.get('test_temperature_celsius{sensor="gpu"}')).toBe(60);
      expect(after.has('test_temperature_celsius{sensor="memory"}')).toBe(false);
      expect(after.get('test_events_total{kind="readings"}')).toBe(1);
    }
  });

  it('a stage that throws loses only its own series, and says so', async () => {
    const { scrape } = setup(
      [collector('test_ready', (out) => out.emit(READY, {}, 1))],
      100,
      undefined,
      [
        {
          name: 'broken',
          metrics: [TEMPS],
          input: channel<number>('nothing'),
          merge: () => {
            throw new Error('a bug');
          },
          status: () => ({ state: 'ok', detail: '' }),
        },
      ],
    );
    const s = await scrape();
    expect(s.get('test_ready')).toBe(1);
    expect(s.get('inferwatch_collector_success{collector="broken"}')).toBe(0);
    expect(s.get('inferwatch_source_errors_total{collector="broken",reason="error"}')).toBe(1);
  });

  it('caps the series of one family from one collector (collectors.max_series_per_family), keeps the first, and counts the rest', async () => {
    const { scrape, scraper } = setup(
      [
        collector('test_temperature', (out) => {
          for (let i = 0; i < 25; i++) out.emit(TEMPS, { sensor: `s${i}` }, i);
        }),
        collector('test_ready', (out) => out.emit(READY, {}, 1)),
      ],
      100,
      10,
    );
    const s = await scrape();
    const temps = [...s.keys()].filter((k) => k.startsWith('test_temperature_celsius{'));
    expect(temps).toHaveLength(10);
    expect(s.get('test_temperature_celsius{sensor="s0"}')).toBe(0);
    expect(
      s.get(
        'inferwatch_collector_series_dropped{collector="test_temperature",family="test_temperature_celsius"}',
      ),
    ).toBe(15);
    // The cap is not a failure: the collector succeeded, and the other collector is untouched.
    expect(s.get('inferwatch_collector_success{collector="test_temperature"}')).toBe(1);
    expect(s.get('test_ready')).toBe(1);
    expect(scraper.droppedBy('test_temperature')).toEqual([
      { family: 'test_temperature_celsius', series: 15 },
    ]);
  });

  it('refuses two different families under one name', () => {
    const other = gauge('test_temperature_celsius', 'Another meaning.', ['sensor']);
    expect(() =>
      setup([
        collector('test_temperature', () => undefined),
        {
          name: 'x',
          metrics: [other],
          collect: () => undefined,
          status: () => ({ state: 'ok', detail: '' }),
        },
      ]),
    ).toThrow(/written by both test_temperature and x/);
  });

  it('refuses a family written by two sources: they report it to a stage instead', () => {
    const twice = (name: string): Collector => ({
      name,
      metrics: [TEMPS],
      collect: () => undefined,
      status: () => ({ state: 'ok', detail: '' }),
    });
    expect(() => setup([twice('a'), twice('b')])).toThrow(/written by both a and b/);
  });

  it('refuses stages that feed each other', () => {
    const A = channel<number>('a');
    const B = channel<number>('b');
    const stage = (name: string, input: typeof A, output: typeof A): Stage<number> => ({
      name,
      metrics: [],
      input,
      output: [output],
      merge: () => undefined,
      status: () => ({ state: 'ok', detail: '' }),
    });
    expect(() => setup([], 100, undefined, [stage('x', A, B), stage('y', B, A)])).toThrow(
      /the stages x, y feed each other/,
    );
  });
});
