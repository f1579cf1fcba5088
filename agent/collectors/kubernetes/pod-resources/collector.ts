import { every } from '../../../core/clock.js';
import type { Collector, Emitter, SourceStatus } from '../../../core/collector.js';
import type { MetricDef } from '../../../core/metric.js';
import type { CollectorDeps } from '../../../shared/collector-factory.js';
import { GPU_POD } from '../metrics.js';
import { GrpcError, unaryCall } from './client.js';
import {
  decodeList,
  isNvidiaResource,
  LIST_METHOD,
  ProtoError,
  type DeviceAllocation,
} from './proto.js';

const NAME = 'pod_resources';
const TIMEOUT_MS = 5000;
const MAX_BYTES = 16 * 1024 * 1024;
/** Devices kept at most: a node has at most a few dozen GPUs and MIG devices. */
const MAX_DEVICES = 1024;

export const POD_RESOURCES_TODO =
  "mount the kubelet's pod-resources directory (/var/lib/kubelet/pod-resources) into the agent's pod, read-only; GPUs are exported without their pods meanwhile";

/**
 * Which pod holds each GPU, asked of the kubelet's pod-resources API in the background, as
 * dcgm-exporter does; a scrape writes the last answer, labelled with the GPU's names.
 */
export class PodResourcesCollector implements Collector {
  readonly name = NAME;
  readonly metrics: readonly MetricDef[] = [GPU_POD];
  private allocations: readonly DeviceAllocation[] = [];
  private failure: { reason: string; message: string } | undefined;
  private asked = false;
  private stopAsking: (() => void) | undefined;

  constructor(
    private readonly options: { readonly socket: string; readonly intervalMs: number },
    private readonly deps: CollectorDeps,
  ) {}

  start(): Promise<void> {
    void this.ask();
    this.stopAsking = every(this.deps.timers, this.options.intervalMs, () => void this.ask());
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.stopAsking?.();
    return Promise.resolve();
  }

  /** One List call; its answer replaces the last. */
  async ask(): Promise<void> {
    try {
      const body = await unaryCall(this.options.socket, LIST_METHOD, new Uint8Array(), {
        timeoutMs: TIMEOUT_MS,
        maxBytes: MAX_BYTES,
      });
      const { allocations } = decodeList(body, MAX_DEVICES * 8);
      this.allocations = allocations
        .filter((a) => isNvidiaResource(a.resource))
        .slice(0, MAX_DEVICES);
      this.failure = undefined;
      this.deps.stateLog.ok(NAME);
    } catch (error) {
      this.failure =
        error instanceof GrpcError
          ? { reason: error.reason, message: error.message }
          : error instanceof ProtoError
            ? { reason: 'protocol', message: `the answer is not pod resources (${error.message})` }
            : { reason: 'error', message: 'the call failed' };
      this.deps.errors.count(NAME, this.failure.reason);
      this.deps.stateLog.failing(
        NAME,
        this.failure.reason,
        `asking the kubelet which pod holds each GPU: ${this.failure.message}`,
        POD_RESOURCES_TODO,
      );
    } finally {
      this.asked = true;
    }
  }

  collect(out: Emitter): void {
    for (const a of this.allocations) {
      const gpu = this.deps.gpuFacts.gpuOf(a.device);
      out.emit(
        GPU_POD,
        {
          gpu: gpu?.gpu ?? '',
          uuid: gpu?.uuid ?? '',
          gpu_model: gpu?.gpu_model ?? '',
          device: a.device,
          resource: a.resource,
          namespace: a.namespace,
          pod: a.pod,
          container: a.container,
        },
        1,
      );
    }
    if (this.failure) out.degrade(this.failure.reason, this.failure.message);
  }

  status(): SourceStatus {
    if (this.failure)
      return { state: 'failing', detail: this.failure.message, todo: POD_RESOURCES_TODO };
    if (!this.asked) return { state: 'starting', detail: `asking ${this.options.socket}` };
    const pods = new Set(this.allocations.map((a) => `${a.namespace}/${a.pod}`));
    return {
      state: 'ok',
      detail: `${this.allocations.length} GPU device(s) allocated to ${pods.size} pod(s)`,
      lines: this.allocations.map(
        (a) => `${a.device} (${a.resource}): ${a.namespace}/${a.pod}, container ${a.container}`,
      ),
    };
  }
}
