import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A Pod object in the API's JSON shape (core/v1), as `kubectl get pod -o json` prints one. */
export interface PodSpec {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly nodeName: string;
  readonly ip: string;
  readonly containers: readonly {
    readonly name: string;
    readonly image: string;
    readonly ports?: readonly { readonly containerPort: number; readonly name?: string }[];
    /** The runtime's ID for the running container (64 hex digits). */
    readonly id?: string;
  }[];
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly phase?: string;
  readonly ready?: boolean;
}

export function podObject(spec: PodSpec, resourceVersion: string): Record<string, unknown> {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      uid: spec.uid,
      resourceVersion,
      creationTimestamp: '2026-12-01T10:00:00Z',
      labels: spec.labels ?? {},
      annotations: spec.annotations ?? {},
    },
    spec: {
      containers: spec.containers.map((c) => ({
        name: c.name,
        image: c.image,
        ...(c.ports ? { ports: c.ports.map((p) => ({ ...p, protocol: 'TCP' })) } : {}),
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        imagePullPolicy: 'IfNotPresent',
      })),
      restartPolicy: 'Always',
      nodeName: spec.nodeName,
      schedulerName: 'default-scheduler',
    },
    status: {
      phase: spec.phase ?? 'Running',
      conditions: [
        { type: 'Ready', status: spec.ready === false ? 'False' : 'True', lastProbeTime: null },
      ],
      hostIP: '192.168.1.20',
      podIP: spec.ip,
      podIPs: [{ ip: spec.ip }],
      containerStatuses: spec.containers.map((c) => ({
        name: c.name,
        ready: spec.ready !== false,
        restartCount: 0,
        image: c.image,
        ...(c.id ? { containerID: `containerd://${c.id}` } : {}),
        started: true,
      })),
      qosClass: 'BestEffort',
    },
  };
}

/**
 * An API server in test/: answers a pod list and a pod watch (newline-delimited events) for
 * the pods it holds, honouring the `spec.nodeName` field selector and asking for the bearer
 * token, as the real one does; it can end watches, answer 410 Gone, or refuse.
 */
export class FakeKubeApi {
  private readonly server: Server;
  private readonly pods = new Map<string, PodSpec>();
  private readonly watches = new Set<{ res: ServerResponse; node: string }>();
  private version = 1000;
  /** Requests as they came: method and path with query. */
  readonly requests: string[] = [];
  /** The next list or watch answers this status instead (one request). */
  failNext: number | undefined;
  /** Watches end as soon as they start (a server or proxy cutting them short). */
  endWatchesAtOnce = false;

  /** Over TLS with `tls` (as every real API server), plain HTTP without. */
  constructor(
    private readonly token: string,
    private readonly tls?: { readonly cert: string; readonly key: string },
  ) {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.server = tls ? createTlsServer(tls, handler) : createServer(handler);
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const port = (this.server.address() as AddressInfo).port;
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    for (const w of this.watches) w.res.end();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Adds or changes a pod; watchers of its node get ADDED or MODIFIED. */
  put(spec: PodSpec): void {
    const type = this.pods.has(spec.uid) ? 'MODIFIED' : 'ADDED';
    this.pods.set(spec.uid, spec);
    this.send(spec, type);
  }

  remove(uid: string): void {
    const spec = this.pods.get(uid);
    if (!spec) return;
    this.pods.delete(uid);
    this.send(spec, 'DELETED');
  }

  /** Every watch answers ERROR 410: the client must list again. */
  expireWatches(): void {
    for (const w of this.watches) {
      w.res.end(
        `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version', reason: 'Expired', code: 410 } })}\n`,
      );
    }
    this.watches.clear();
  }

  get watching(): number {
    return this.watches.size;
  }

  private send(spec: PodSpec, type: string): void {
    const version = String(++this.version);
    for (const w of this.watches)
      if (w.node === spec.nodeName)
        w.res.write(`${JSON.stringify({ type, object: podObject(spec, version) })}\n`);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return void res.writeHead(401, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'Unauthorized',
          reason: 'Unauthorized',
          code: 401,
        }),
      );
    if (url.pathname !== '/api/v1/pods') return void res.writeHead(404).end();
    if (this.failNext !== undefined) {
      const status = this.failNext;
      this.failNext = undefined;
      return void res.writeHead(status).end();
    }
    const selector = /^spec\.nodeName=(.+)$/.exec(url.searchParams.get('fieldSelector') ?? '');
    // The agent's ClusterRole allows this; a list of every pod in the cluster it must not ask.
    if (!selector?.[1])
      return void res.writeHead(400).end('a field selector on spec.nodeName is required');
    const node = selector[1];
    const version = String(this.version);
    if (url.searchParams.get('watch') === '1' || url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.write(
        `${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: version } } })}\n`,
      );
      if (this.endWatchesAtOnce) return void res.end();
      const entry = { res, node };
      this.watches.add(entry);
      res.on('close', () => this.watches.delete(entry));
      return;
    }
    const items = [...this.pods.values()]
      .filter((p) => p.nodeName === node)
      .map((p) => podObject(p, version));
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: { resourceVersion: version },
        items,
      }),
    );
  }
}
