import { z } from 'zod';

/**
 * A pod on this node, as the agent needs it: where it answers, what it declares, and how to
 * tell its containers' processes apart. Built from the API's Pod object (core/v1); what the
 * agent does not read is not kept.
 */
export interface PodView {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly phase: string;
  /** Empty until the pod has an address. */
  readonly ip: string;
  readonly ready: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly containers: readonly PodContainer[];
  /** Container runtime IDs (without the `containerd://` scheme) to container names. */
  readonly containerIds: ReadonlyMap<string, string>;
}

export interface PodContainer {
  readonly name: string;
  readonly image: string;
  readonly ports: readonly { readonly port: number; readonly name: string }[];
}

/** Where a series comes from in the cluster: the labels every pod-backed series carries. */
export interface Place {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
}

/** Annotations a pod's owner sets for what the agent cannot tell by itself. */
export const ANNOTATIONS = {
  /** "false": never looked at. */
  scrape: 'inferwatch.io/scrape',
  /** Ports to look at besides the declared ones ("8000" or "8000,8002"). */
  ports: 'inferwatch.io/ports',
  /** The runtime, when what it answers does not tell (one of the runtime kinds). */
  runtime: 'inferwatch.io/runtime',
} as const;

const portSchema = z.object({
  containerPort: z.int().min(1).max(65_535),
  name: z.string().optional(),
  protocol: z.string().optional(),
});

/** Lenient where the API may leave a field out, strict where the agent depends on it. */
const podSchema = z.object({
  metadata: z.object({
    uid: z.string().min(1),
    name: z.string().min(1),
    namespace: z.string().min(1),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    deletionTimestamp: z.string().nullish(),
  }),
  spec: z.object({
    containers: z
      .array(
        z.object({
          name: z.string(),
          image: z.string().optional(),
          ports: z.array(portSchema).optional(),
        }),
      )
      .default([]),
  }),
  status: z
    .object({
      phase: z.string().optional(),
      podIP: z.string().optional(),
      conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional(),
      containerStatuses: z
        .array(z.object({ name: z.string(), containerID: z.string().optional() }))
        .optional(),
    })
    .default({}),
});

/** The pod, or undefined for an object that is not one (its error says which field). */
export function podOf(object: unknown): { pod: PodView } | { error: string } {
  const parsed = podSchema.safeParse(object);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { error: `not a pod: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim() };
  }
  const { metadata, spec, status } = parsed.data;
  const ids = new Map<string, string>();
  for (const s of status.containerStatuses ?? []) {
    const id = containerIdOf(s.containerID ?? '');
    if (id) ids.set(id, s.name);
  }
  return {
    pod: Object.freeze({
      uid: metadata.uid,
      namespace: metadata.namespace,
      name: metadata.name,
      phase: metadata.deletionTimestamp ? 'Terminating' : (status.phase ?? 'Unknown'),
      ip: status.podIP ?? '',
      ready: status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      labels: metadata.labels ?? {},
      annotations: metadata.annotations ?? {},
      containers: spec.containers.map((c) => ({
        name: c.name,
        image: c.image ?? '',
        ports: (c.ports ?? [])
          .filter((p) => (p.protocol ?? 'TCP') === 'TCP')
          .map((p) => ({ port: p.containerPort, name: p.name ?? '' })),
      })),
      containerIds: ids,
    }),
  };
}

/** `containerd://0123abc` or `cri-o://…` → `0123abc`. */
export function containerIdOf(status: string): string {
  const at = status.indexOf('://');
  return at < 0 ? status : status.slice(at + 3);
}

/** A place on this node where a runtime may answer, and the pod it belongs to. */
export interface Candidate {
  readonly url: string;
  readonly port: number;
  readonly place: Place;
  /** Set by the pod's annotation; identification is skipped. */
  readonly kind?: string;
  /** The pod's identity and address, so a changed pod is looked at again. */
  readonly podKey: string;
}

/** Pods the agent never reads as runtimes: itself, and GPU exporters it reads otherwise. */
function notARuntime(pod: PodView): boolean {
  return (
    pod.annotations[ANNOTATIONS.scrape] === 'false' ||
    pod.labels['app.kubernetes.io/name'] === 'inferwatch' ||
    isDcgmExporter(pod)
  );
}

/**
 * The addresses to try on a running pod: every TCP port its containers declare, and those its
 * annotation adds (given to the first container, or to the only one that declares none).
 */
export function candidatesOf(pod: PodView): Candidate[] {
  if (pod.phase !== 'Running' || !pod.ip || notARuntime(pod)) return [];
  const host = pod.ip.includes(':') ? `[${pod.ip}]` : pod.ip;
  const kind = pod.annotations[ANNOTATIONS.runtime]?.trim() || undefined;
  const podKey = `${pod.uid}@${pod.ip}`;
  const seen = new Set<number>();
  const out: Candidate[] = [];
  const add = (port: number, container: string) => {
    if (seen.has(port)) return;
    seen.add(port);
    out.push({
      url: `http://${host}:${port}`,
      port,
      place: { namespace: pod.namespace, pod: pod.name, container },
      podKey,
      ...(kind ? { kind } : {}),
    });
  };
  for (const c of pod.containers) for (const p of c.ports) add(p.port, c.name);
  const extra = annotatedPorts(pod.annotations[ANNOTATIONS.ports]);
  const owner =
    pod.containers.find((c) => c.ports.length === 0 && pod.containers.length > 1) ??
    pod.containers[0];
  for (const port of extra) add(port, owner?.name ?? '');
  return out;
}

function annotatedPorts(value: string | undefined): number[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n >= 1 && n <= 65_535);
}

/** The NVIDIA GPU Operator's and dcgm-exporter's own chart's labels, or its image. */
export function isDcgmExporter(pod: PodView): boolean {
  const app = pod.labels['app'] ?? pod.labels['app.kubernetes.io/name'] ?? '';
  return (
    app === 'nvidia-dcgm-exporter' ||
    app === 'dcgm-exporter' ||
    pod.containers.some((c) => /(^|\/)dcgm-exporter(:|@|$)/.test(c.image))
  );
}

/** dcgm-exporter's metrics URL on a running pod: its port named `metrics`, else 9400. */
export function dcgmUrlOf(pod: PodView): string | undefined {
  if (pod.phase !== 'Running' || !pod.ip) return undefined;
  const ports = pod.containers.flatMap((c) => c.ports);
  const port =
    ports.find((p) => p.name === 'metrics')?.port ??
    ports.find((p) => p.port === 9400)?.port ??
    9400;
  const host = pod.ip.includes(':') ? `[${pod.ip}]` : pod.ip;
  return `http://${host}:${port}/metrics`;
}

/**
 * The pod and container a process runs in, from its /proc/PID/cgroup text: the kubelet names
 * each pod's cgroup after its UID (`pod<uid>`, dashes as underscores under the systemd
 * driver) and each container's after its runtime ID.
 */
export function cgroupPlace(
  cgroupText: string,
  pods: ReadonlyMap<string, PodView>,
): Place | undefined {
  for (const line of cgroupText.split('\n')) {
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    const podMatch =
      /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/.exec(path);
    if (!podMatch?.[1]) continue;
    const pod = pods.get(podMatch[1].replaceAll('_', '-'));
    if (!pod) continue;
    const id = /([0-9a-f]{64})(?:\.scope)?\/?$/.exec(path)?.[1];
    return {
      namespace: pod.namespace,
      pod: pod.name,
      container: (id && pod.containerIds.get(id)) || '',
    };
  }
  return undefined;
}
