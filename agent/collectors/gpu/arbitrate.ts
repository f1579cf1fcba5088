import type { MetricDef } from '../../core/metric.js';
import type { GpuFigure, GpuReader, GpuReport, GpuSighting } from '../../shared/gpu-report.js';

/**
 * Who speaks for what where several readers see it: the first in each list that reported it.
 * The GPU view's one policy, in one place.
 */
export const SPEAKERS = {
  // nvidia-smi's names and figures are the ones the GPU processes and the runtimes carry.
  figures: ['nvidia_smi', 'dcgm'],
  // DCGM's counter is exact since the driver loaded; nvidia-smi's is an integral of samples.
  energy: ['dcgm', 'nvidia_smi'],
  // The kernel log sees every event; DCGM's two views of them can miss some.
  xids: ['kernel_log', 'dcgm'],
} as const satisfies Record<string, readonly GpuReader[]>;

/** One GPU, as this scrape's readers saw it, with who speaks for each of its families. */
export interface GpuVerdict {
  readonly uuid: string;
  /** The reader whose names and gpu_info labels the GPU's series carry. */
  readonly named: { readonly by: GpuReader; readonly sighting: GpuSighting };
  /** The figures served: of each family, those of the first reader that read any of it. */
  readonly figures: readonly GpuFigure[];
  readonly speakers: ReadonlyMap<MetricDef, GpuReader>;
  /** Each reader's energy figure; only the speaker's increments count. */
  readonly energy: ReadonlyMap<GpuReader, number>;
  readonly energySpeaker: GpuReader | undefined;
}

export interface Verdict {
  readonly gpus: readonly GpuVerdict[];
  /** The reader whose Xid counts count; none when no reader of Xids reported. */
  readonly xidSpeaker: GpuReader | undefined;
}

/**
 * Decides, per GPU and family, which reader speaks: pure, so the whole policy is tested on
 * tables. A reader that did not report in this scrape (down, cut off) speaks for nothing, and
 * the next in line does.
 */
export function arbitrate(reports: readonly GpuReport[]): Verdict {
  const byReader = new Map<GpuReader, ReadonlyMap<string, GpuSighting>>();
  const counting = new Set<GpuReader>();
  for (const report of reports) {
    if (byReader.has(report.reader)) continue;
    byReader.set(report.reader, new Map(report.gpus.map((g) => [g.uuid, g])));
    if (report.xids) counting.add(report.reader);
  }
  const uuids = new Set(SPEAKERS.figures.flatMap((r) => [...(byReader.get(r)?.keys() ?? [])]));
  const gpus = [...uuids].map((uuid) => {
    const seen = SPEAKERS.figures.flatMap((by) => {
      const sighting = byReader.get(by)?.get(uuid);
      return sighting ? [{ by, sighting }] : [];
    });
    const speakers = new Map<MetricDef, GpuReader>();
    const figures: GpuFigure[] = [];
    for (const { by, sighting } of seen) {
      for (const figure of sighting.figures) {
        const speaker = speakers.get(figure.metric) ?? by;
        speakers.set(figure.metric, speaker);
        if (speaker === by) figures.push(figure);
      }
    }
    const energy = new Map(
      seen.flatMap(({ by, sighting }) =>
        sighting.energyJoules === undefined ? [] : [[by, sighting.energyJoules] as const],
      ),
    );
    return {
      uuid,
      named: seen[0] as GpuVerdict['named'],
      figures,
      speakers,
      energy,
      energySpeaker: SPEAKERS.energy.find((r) => energy.has(r)),
    };
  });
  return { gpus, xidSpeaker: SPEAKERS.xids.find((r) => counting.has(r)) };
}
