import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertHolds, cleared } from '../../demo/words.js';
import { INCIDENTS } from '../../demo/sim/incidents.js';
import { ROOT } from '../helpers/fixtures.js';

const RULES = `
groups:
  - name: g
    rules:
      - record: job:errors:ratio_rate5m
        expr: sum(rate(errors_total[5m])) / sum(rate(requests_total[5m]))
      - record: job:errors:ratio_rate1h
        expr: sum(rate(errors_total[1h])) / sum(rate(requests_total[1h]))
      - alert: Burn
        expr: job:errors:ratio_rate1h > 0.1 and job:errors:ratio_rate5m > 0.1
        for: 2m
      - alert: Burn
        expr: job:errors:ratio_rate1h > 0.01
        for: 1h
      - alert: Either
        expr: increase(a_total[15m]) > 0 or increase(b_total[1h]) > 0
        keep_firing_for: 30m
      - alert: Gone
        expr: max_over_time(info[1h]) unless info
      - alert: Now
        expr: up == 0
`;

describe("the demo's alert holds", () => {
  const holds = alertHolds(RULES);

  it('a multi-window burn rate ends with its short window; its slow tier is not what the demo fires', () => {
    expect(holds.get('Burn')).toEqual({ window: 300, keep: 0 });
  });

  it('or lasts as its longest side, then keep_firing_for; unless and an instant read end at once', () => {
    expect(holds.get('Either')).toEqual({ window: 3600, keep: 1800 });
    expect(holds.get('Gone')).toEqual({ window: 0, keep: 0 });
    expect(holds.get('Now')).toEqual({ window: 0, keep: 0 });
  });

  it('on the shipped rules: a burn rate fired by minutes of trouble ends in 5 min; an Xid counted over an hour holds an hour', () => {
    const shipped = alertHolds(readFileSync(join(ROOT, 'alerts/inferwatch.rules.yml'), 'utf8'));
    expect(shipped.get('LLMNodeTTFTBudgetBurn')).toEqual({ window: 300, keep: 0 });
    expect(shipped.get('LLMNodeGPUXidNonFatal')).toEqual({ window: 3600, keep: 0 });
    expect(shipped.get('LLMNodeGPUXidFatal')).toEqual({ window: 900, keep: 1800 });
    expect(shipped.get('LLMNodeModelUnavailable')).toEqual({ window: 0, keep: 0 });
  });

  it('clear says each alert once, with how long it may keep firing; with no Prometheus, only what it healed', () => {
    const text = cleared(
      [
        { incident: 'xid', gpu: 1, at: 0 },
        { incident: 'xid', gpu: 2, at: 0 },
      ],
      INCIDENTS,
      new Map([['LLMNodeGPUXidNonFatal', { window: 3600, keep: 1800 }]]),
    );
    expect(text).toBe(
      'Cleared xid on GPU 1, xid on GPU 2: the node is healthy again.\n' +
        'Alerts count events over a window, so they stop on their own:\n' +
        '  LLMNodeGPUXidNonFatal: may keep firing up to 90 min (its 1 h window, then 30 min of keep_firing_for)\n',
    );
    expect(cleared([{ incident: 'xid', gpu: 1, at: 0 }], INCIDENTS, undefined)).toBe(
      'Cleared xid on GPU 1: the node is healthy again.\n',
    );
  });
});
