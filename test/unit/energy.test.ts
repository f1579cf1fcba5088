import { describe, expect, it } from 'vitest';
import { EnergyIntegrator } from '../../agent/collectors/nvidia-smi/energy.js';

describe('EnergyIntegrator', () => {
  it('integrates power over time with the trapezoid rule, from 0', () => {
    const e = new EnergyIntegrator(5000);
    e.observe('GPU-a', 100, 0);
    expect(e.joules('GPU-a')).toBe(0);
    e.observe('GPU-a', 300, 1000);
    expect(e.joules('GPU-a')).toBe(200);
    e.observe('GPU-a', 300, 3000);
    expect(e.joules('GPU-a')).toBe(800);
    expect(e.joules('GPU-b')).toBeUndefined();
  });

  it('does not guess across a gap longer than the limit', () => {
    const e = new EnergyIntegrator(5000);
    e.observe('GPU-a', 100, 0);
    e.observe('GPU-a', 100, 60_000);
    expect(e.joules('GPU-a')).toBe(0);
    e.observe('GPU-a', 100, 61_000);
    expect(e.joules('GPU-a')).toBe(100);
  });
});
