import { dcgm } from '../../agent/collectors/dcgm/index.js';
import { gpuView } from '../../agent/collectors/gpu/index.js';
import { GpuView } from '../../agent/collectors/gpu/view.js';
import { kernelEvents } from '../../agent/collectors/kernel-events/index.js';
import { nvidiaSmi } from '../../agent/collectors/nvidia-smi/index.js';
import { Durable } from '../../agent/core/durable.js';
import { GpuFacts } from '../../agent/shared/gpu-facts.js';
import {
  GPU_REPORTS,
  type GpuFigure,
  type GpuReport,
  type GpuSighting,
} from '../../agent/shared/gpu-report.js';
import { Recorder } from './recorder.js';

/** The GPU view as the agent builds it, writing every family its readers feed it. */
export function newGpuView(durable = new Durable(), drivers = new GpuFacts()): GpuView {
  return new GpuView(gpuView([nvidiaSmi, kernelEvents, dcgm]).metrics, durable, drivers);
}

/**
 * One scrape of a GPU reader as the agent runs it: the reader collects, then the view merges
 * what it reported with `others` (standing in for the readers not under test), all written to
 * one Recorder. A reader that throws reports nothing, as in the agent.
 */
export async function throughView(
  view: GpuView,
  collect: (out: Recorder) => Promise<void> | void,
  others: readonly GpuReport[] = [],
): Promise<Recorder> {
  const out = new Recorder();
  await collect(out);
  return mergeInto(view, out, others);
}

/** The view's half of a scrape: it merges what was reported to `out`, and writes there. */
export function mergeInto(
  view: GpuView,
  out: Recorder,
  others: readonly GpuReport[] = [],
): Recorder {
  view.merge([...others, ...out.reported(GPU_REPORTS)], out);
  return out;
}

/** A GPU as a reader saw it, with nothing but what the test gives. */
export function sighting(
  uuid: string,
  fields: Partial<Omit<GpuSighting, 'uuid'>> & { figures?: readonly GpuFigure[] } = {},
): GpuSighting {
  return {
    uuid,
    index: fields.index ?? '0',
    model: fields.model ?? 'NVIDIA H100 80GB HBM3',
    pciBusId: fields.pciBusId ?? '',
    info: fields.info ?? {},
    figures: fields.figures ?? [],
    energyJoules: fields.energyJoules,
  };
}
