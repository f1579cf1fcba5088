import {
  Agent as HttpAgent,
  createServer,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { generation } from './inference.js';
import type { TrafficLedger } from './ledger.js';
import { RequestMeter, type Cut } from './meter.js';
import { failureReason, joinPath, passedHeaders } from './forwarding.js';
import { listenAddress, routeKey, type RouteCounts, type RouteSettings } from './route-settings.js';

/**
 * One route of the metering proxy: a listener that passes every request to one fixed upstream
 * and every answer back, unchanged and unbuffered (streams flow with backpressure; a client
 * that leaves aborts the upstream request), and measures the generation requests among them.
 * The upstream is fixed: nothing in a request chooses where it goes.
 */
export class ProxyRoute {
  /** Why it does not listen (the address is taken, say); undefined while it does. */
  problem: string | undefined = 'not started';
  private readonly server: Server;
  private readonly agent: HttpAgent;
  private inFlight = 0;
  private readonly sockets = new Set<Socket>();

  constructor(
    private current: RouteSettings,
    private ledger: TrafficLedger,
    /** Kept by the pool, so its counters outlive the route (a reload that changes it). */
    readonly counts: RouteCounts,
    private readonly world: { readonly clock: Clock; readonly logger: Logger },
  ) {
    const AgentClass = current.upstream.protocol === 'https:' ? HttpsAgent : HttpAgent;
    this.agent = new AgentClass({ keepAlive: true, maxSockets: current.maxStreams });
    this.server = createServer({ noDelay: true }, (req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // A hung client never holds a slot: headers must come in time (Node's default of 60 s).
    this.server.headersTimeout = 60_000;
    // Answers stream for as long as the runtime generates.
    this.server.requestTimeout = 0;
  }

  get settings(): RouteSettings {
    return this.current;
  }

  get key(): string {
    return routeKey(this.current);
  }

  get streams(): number {
    return this.inFlight;
  }

  get target(): string {
    return this.current.target;
  }

  get listenAddress(): string {
    return listenAddress(this.current);
  }

  /** New settings for a route kept through a reload (same address and upstream). */
  update(settings: RouteSettings, ledger: TrafficLedger): void {
    this.current = settings;
    this.ledger = ledger;
    this.agent.maxSockets = settings.maxStreams;
  }

  async listen(): Promise<void> {
    const { host, port } = this.current.listen;
    await new Promise<void>((resolve) => {
      const failed = (error: NodeJS.ErrnoException) => {
        this.problem =
          error.code === 'EADDRINUSE'
            ? `${this.listenAddress} is in use by another process`
            : `cannot listen on ${this.listenAddress} (${error.code ?? 'error'})`;
        this.world.logger.error(
          { route: this.listenAddress, target: this.current.target, reason: error.code },
          'proxy route cannot listen',
        );
        resolve();
      };
      this.server.once('error', failed);
      this.server.listen(port, host, () => {
        this.server.off('error', failed);
        this.problem = undefined;
        resolve();
      });
    });
  }

  /**
   * Stops taking connections; requests in flight go on to their end, at most `graceMs`, then
   * their connections are closed.
   */
  async close(graceMs: number): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, graceMs);
    timer.unref();
    await closed;
    clearTimeout(timer);
    this.agent.destroy();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const { clock } = this.world;
    const settings = this.current;
    const measured = generation(settings.generation, req.method ?? '', req.url ?? '');
    const meter = measured
      ? new RequestMeter(settings.generation, measured.dialect, this.ledger, clock.monotonicMs())
      : undefined;
    if (this.inFlight >= settings.maxStreams) {
      this.counts.refused++;
      this.respond(res, 503, 'inferwatch proxy: too many requests in flight; try again\n');
      // The body is read to its end for the model it names, then counted as rejected.
      const refused = () =>
        meter?.finish(clock.monotonicMs(), { by: 'proxy', reason: 'max_streams' });
      req.on('data', (chunk: Buffer) => meter?.request(chunk));
      req.once('end', refused);
      req.once('close', refused);
      return;
    }
    this.inFlight++;
    let done = false;
    const end = (cut?: Cut) => {
      if (done) return;
      done = true;
      this.inFlight--;
      meter?.finish(clock.monotonicMs(), cut);
    };

    const upstream = this.forward(
      req,
      () => done,
      (failure) => {
        this.counts.upstreamFailures.set(
          failure,
          (this.counts.upstreamFailures.get(failure) ?? 0) + 1,
        );
        if (!res.headersSent)
          this.respond(
            res,
            failure === 'timeout' ? 504 : 502,
            `inferwatch proxy: the runtime ${failure === 'timeout' ? 'did not answer in time' : 'cannot be reached'}\n`,
          );
        else {
          // Mid-answer: the client must see the break, as it would without the proxy.
          this.count(0);
          res.destroy();
        }
        end({ by: 'upstream', reason: failure });
      },
    );

    req.on('data', (chunk: Buffer) => meter?.request(chunk));
    req.on('end', () => meter?.requestSent());
    req.pipe(upstream);

    upstream.on('response', (answer) => {
      meter?.answer(answer.statusCode ?? 0, answer.headers['content-type']);
      // No header but the runtime's: not even the Date Node would add where it sent none.
      res.sendDate = false;
      res.writeHead(
        answer.statusCode ?? 502,
        answer.statusMessage,
        passedHeaders(answer.rawHeaders),
      );
      // Headers go out now, not with the first chunk: SSE clients wait on them.
      res.flushHeaders();
      answer.on('data', (chunk: Buffer) => meter?.chunk(chunk, clock.monotonicMs()));
      answer.on('end', () => meter?.answerEnded(clock.monotonicMs()));
      answer.pipe(res);
      res.on('finish', () => {
        this.count(answer.statusCode ?? 0);
        end();
      });
    });

    res.on('close', () => {
      if (done) return;
      // The client left before the whole answer reached it: the runtime stops working for it.
      this.count(0);
      upstream.destroy();
      end({ by: 'client' });
    });
  }

  /** The upstream request, its deadlines set; `failed` is called once if it fails. */
  private forward(
    req: IncomingMessage,
    clientGone: () => boolean,
    failed: (reason: string) => void,
  ): ClientRequest {
    const settings = this.current;
    const target = settings.upstream;
    const headers = passedHeaders(req.rawHeaders, settings.preserveHost ? undefined : 'host');
    const flat = settings.preserveHost ? headers : ['Host', target.host, ...headers];
    const options = {
      protocol: target.protocol,
      hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: target.port || (target.protocol === 'https:' ? 443 : 80),
      method: req.method,
      path: joinPath(target.pathname, req.url ?? '/'),
      headers: flat,
      agent: this.agent,
      // Without it, the headers array is sent with Node's own Connection header added.
      setHost: false,
    };
    const upstream =
      target.protocol === 'https:' ? httpsRequest(options as never) : httpRequest(options as never);
    let reported = false;
    const fail = (reason: string) => {
      if (reported) return;
      reported = true;
      upstream.destroy();
      // Once the client has left, what breaks next is the proxy's doing, not the runtime's.
      if (!clientGone()) failed(reason);
    };
    upstream.on('socket', (socket: Socket) => {
      socket.setNoDelay(true);
      if (!socket.connecting) return;
      const timer = setTimeout(() => fail('timeout'), settings.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    upstream.setTimeout(settings.idleTimeoutMs, () => fail('timeout'));
    upstream.on('error', (error: NodeJS.ErrnoException) => fail(failureReason(error)));
    upstream.on('response', (answer) => {
      answer.on('close', () => {
        if (!answer.complete) fail('reset');
      });
    });
    return upstream;
  }

  private respond(res: ServerResponse, status: number, body: string): void {
    this.count(status);
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...(status === 503 ? { 'retry-after': '1' } : {}),
    });
    res.end(body);
  }

  private count(status: number): void {
    this.counts.responses.set(status, (this.counts.responses.get(status) ?? 0) + 1);
  }
}
