import type { Reading } from './reading.js';

/**
 * At most `max` models per runtime get series. The models admitted stay admitted while the
 * runtime reports them, so the series kept do not change from read to read; a model the
 * runtime stops reporting frees its place. A runtime that reports thousands of models (an
 * adapter list, a misbehaving router) costs a bounded number of series, and says how many it
 * left out.
 */
export class ModelCap {
  private admitted = new Set<string>();

  constructor(private readonly max: number) {}

  /** The reading with the series of models beyond the cap left out, and how many were. */
  apply(reading: Reading): { reading: Reading; dropped: number } {
    const reported = new Set(reading.models);
    const kept = new Set([...this.admitted].filter((m) => reported.has(m)));
    for (const model of reading.models) {
      if (kept.size >= this.max) break;
      kept.add(model);
    }
    this.admitted = kept;
    const dropped = reported.size - kept.size;
    if (dropped === 0) return { reading, dropped };
    return {
      reading: {
        ...reading,
        models: reading.models.filter((m) => kept.has(m)),
        samples: reading.samples.filter((s) => {
          const model = s.labels.model;
          return model === undefined || kept.has(model);
        }),
      },
      dropped,
    };
  }
}
