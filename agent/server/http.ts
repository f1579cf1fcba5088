import { hostname } from 'node:os';
import { statusPage, STATUS_PAGE_HEADERS, type SourceRow } from './status-page.js';
import { runbookAnswer } from './runbooks.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { Socket } from 'node:net';
import { constants, gzipSync } from 'node:zlib';
import type { Logger } from '../core/logger.js';
import { ConnectionGate } from './connection-gate.js';
import { BasicAuth, WorkerBcrypt, type Bcrypt } from './basic-auth.js';
import type { WebSecurity } from './web-config.js';

export interface MetricsSource {
  metrics(): Promise<Buffer>;
  readonly contentType: string;
  statuses(): readonly SourceRow[];
  /** The probe's cached result for a target and module, blackbox_exporter style. */
  probe?(target: string, module: string): { readonly status: number; readonly body: string };
}

const TEXT = 'text/plain; charset=utf-8';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  /** Requests served at once, /healthz and /metrics aside (they never queue behind others). */
  readonly maxRequests: number;
  readonly version: string;
  /** Open connections at once before idle ones make room for new ones (default 128). */
  readonly maxConnections?: number;
  /** Longest a client may take to send its headers (default 10 s). */
  readonly headerTimeoutMs?: number;
  /** How long a new connection is spared from making room for others (default 1 s). */
  readonly admissionGraceMs?: number;
  /** The pause before answering wrong credentials (default 1 s). */
  readonly authFailureDelayMs?: number;
  /** TLS, basic auth and extra headers from the exporter-toolkit web config file. */
  readonly security?: WebSecurity;
  /** Where basic auth's bcrypt runs (default: a worker thread). */
  readonly bcrypt?: Bcrypt;
}

/** Clients waiting out the pause after wrong credentials, at most (see slowly()). */
const MAX_TARPITTED = 256;

/** Request headers larger than this are refused: the agent reads a path and a few headers. */
const MAX_HEADER_BYTES = 8 * 1024;

/** One scrape's answer, rendered once and compressed at most once, shared by its requests. */
interface Rendered {
  readonly text: Buffer;
  gzip?: Buffer;
}

/**
 * /metrics, /healthz, /probe, the runbooks and a status page. Built to stay answerable to
 * Prometheus and to liveness checks while others abuse it:
 * - /healthz is answered before anything else: no auth, no queue;
 * - concurrent /metrics requests share the one scrape in flight and its rendered (and gzipped)
 *   body, so a hundred scrapers cost about what one does;
 * - when the connection cap is reached, the oldest connection that is not serving a request
 *   (one trickling its headers, an idle keep-alive) makes room for the new one, so slowloris
 *   clients cannot lock others out;
 * - basic auth never holds the event loop (see BasicAuth).
 */
export class MetricsServer {
  private readonly server: Server | TlsServer;
  private readonly tls: boolean;
  private readonly bcrypt: Bcrypt;
  private auth: BasicAuth | undefined;
  private headers: Readonly<Record<string, string>>;
  private readonly gate: ConnectionGate;
  private readonly authFailureDelayMs: number;
  private tarpitted = 0;
  private inFlight = 0;
  private scrape: Promise<Rendered> | undefined;

  constructor(
    private readonly source: MetricsSource,
    private readonly options: ServerOptions,
    private readonly logger: Logger,
  ) {
    const headerTimeout = options.headerTimeoutMs ?? 10_000;
    const serverOptions = {
      maxHeaderSize: MAX_HEADER_BYTES,
      // Node checks the header and request deadlines on this cadence (30 s by default).
      connectionsCheckingInterval: Math.min(1000, Math.floor(headerTimeout / 2)),
    };
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    const tls = options.security?.tls;
    this.tls = tls !== undefined;
    this.server = tls
      ? createTlsServer({ ...serverOptions, ...tls }, handler)
      : createServer(serverOptions, handler);
    this.bcrypt = options.bcrypt ?? new WorkerBcrypt();
    this.headers = options.security?.headers ?? {};
    this.auth = this.authFor(options.security);
    this.gate = new ConnectionGate(options.maxConnections ?? 128, options.admissionGraceMs ?? 1000);
    this.authFailureDelayMs = options.authFailureDelayMs ?? 1000;
    // A client that trickles its headers (slowloris) or its request is cut off.
    this.server.headersTimeout = headerTimeout;
    this.server.requestTimeout = Math.max(30_000, headerTimeout + 1000);
    this.server.keepAliveTimeout = 65_000;
    this.server.maxHeadersCount = 64;
    this.server.on('connection', (socket: Socket) => this.gate.admit(socket));
  }

  /** What the server serves on: `https` with TLS from the web config, `http` otherwise. */
  get scheme(): 'http' | 'https' {
    return this.tls ? 'https' : 'http';
  }

  /**
   * Takes a reloaded web config: users, headers and (on a TLS server) the certificate. Says
   * what it could not take: turning TLS on or off needs a restart.
   */
  setSecurity(security: WebSecurity | undefined): string | undefined {
    if ((security?.tls !== undefined) !== this.tls)
      return 'TLS was turned on or off in the web config: restart the agent to apply it';
    if (security?.tls) (this.server as TlsServer).setSecureContext(security.tls);
    this.headers = security?.headers ?? {};
    this.auth = this.authFor(security);
    return undefined;
  }

  /** Resolves with the bound port; rejects with a plain message when the port is taken. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        const where = `${this.options.host}:${this.options.port}`;
        if (error.code === 'EADDRINUSE')
          reject(new Error(`cannot listen on ${where}: address already in use`));
        else if (error.code === 'EACCES')
          reject(new Error(`cannot listen on ${where}: permission denied`));
        else reject(new Error(`cannot listen on ${where}: ${error.code ?? 'error'}`));
      };
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : this.options.port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      setTimeout(() => this.server.closeAllConnections(), 2000).unref();
      void this.bcrypt.close();
    });
  }

  private authFor(security: WebSecurity | undefined): BasicAuth | undefined {
    return security?.users ? new BasicAuth(security.users, this.bcrypt) : undefined;
  }

  /**
   * Answers a client that sent wrong credentials after a pause, as login prompts do: a client
   * guessing in a loop then costs a few requests a second, not a core. At most
   * MAX_TARPITTED wait at once; past that, the answer goes at once.
   */
  private slowly(res: ServerResponse, answer: () => void): void {
    if (this.tarpitted >= MAX_TARPITTED) return answer();
    this.tarpitted++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.tarpitted--;
      clearTimeout(timer);
    };
    const timer = setTimeout(() => {
      finish();
      if (!res.destroyed) answer();
    }, this.authFailureDelayMs);
    // A client that leaves frees its place at once.
    res.once('close', finish);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.gate.serving(req, res);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return this.reply(res, 405, TEXT, 'method not allowed\n', { Allow: 'GET, HEAD' });
    }
    // Liveness first, as with node_exporter: no credentials, no queue.
    if (path === '/healthz') return this.reply(res, 200, TEXT, 'ok\n');
    // The runbooks are the same text in every install and say nothing of the node: served to
    // whoever follows an alert's link, with no credentials to ask for.
    if (path === '/runbooks' || path.startsWith('/runbooks/')) {
      const page = runbookAnswer(path);
      return this.reply(res, page.status, page.contentType, page.body, page.headers);
    }
    try {
      if (this.auth) {
        const verdict = await this.auth.check(
          req.headers.authorization,
          req.socket.remoteAddress ?? '',
        );
        if (verdict === 'throttled')
          return this.slowly(res, () =>
            this.reply(res, 429, TEXT, 'too many authentication attempts\n', {
              'Retry-After': '5',
            }),
          );
        if (verdict !== 'ok') {
          const refuse = () =>
            this.reply(res, 401, TEXT, 'unauthorized\n', {
              'WWW-Authenticate': 'Basic realm="inferwatch", charset="UTF-8"',
            });
          // Asked without credentials (a first request): answered at once.
          return req.headers.authorization === undefined ? refuse() : this.slowly(res, refuse);
        }
      }
      if (path === '/metrics') return await this.serveMetrics(req, res);
      if (this.inFlight >= this.options.maxRequests)
        return this.reply(res, 503, TEXT, 'too many concurrent requests\n');
      this.inFlight++;
      try {
        if (path === '/probe') this.serveProbe(req, res);
        else if (path === '/')
          this.reply(
            res,
            200,
            'text/html; charset=utf-8',
            statusPage(this.options.version, hostname(), this.source.statuses(), Date.now()),
            STATUS_PAGE_HEADERS,
          );
        else this.reply(res, 404, TEXT, 'not found\n');
      } finally {
        this.inFlight--;
      }
    } catch (error) {
      this.logger.error({ err: error }, 'request failed');
      if (!res.headersSent) this.reply(res, 500, TEXT, 'internal error\n');
      else res.destroy();
    }
  }

  /** Joins the scrape in flight, or starts one; the body is rendered and gzipped once for all. */
  private async serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.scrape ??= this.source
      .metrics()
      .then((text): Rendered => ({ text }))
      .finally(() => {
        this.scrape = undefined;
      });
    const rendered = await this.scrape;
    const accepts = String(req.headers['accept-encoding'] ?? '');
    if (/\bgzip\b/.test(accepts)) {
      // Fastest level, inline: a ~150 KB exposition compresses in well under a millisecond,
      // less than the thread-pool round trip of the async API would add to the tail.
      rendered.gzip ??= gzipSync(rendered.text, { level: constants.Z_BEST_SPEED });
      this.reply(res, 200, this.source.contentType, rendered.gzip, {
        'Content-Encoding': 'gzip',
        Vary: 'Accept-Encoding',
      });
    } else {
      this.reply(res, 200, this.source.contentType, rendered.text, { Vary: 'Accept-Encoding' });
    }
  }

  /** Reads the cache only: a scrape of /probe never starts a generation. */
  private serveProbe(req: IncomingMessage, res: ServerResponse): void {
    if (!this.source.probe) return this.reply(res, 404, TEXT, 'the probe is switched off\n');
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const target = query.get('target');
    if (!target) return this.reply(res, 400, TEXT, "the 'target' parameter is missing\n");
    const answer = this.source.probe(target, query.get('module') ?? 'latency');
    this.reply(
      res,
      answer.status,
      answer.status === 200 ? 'text/plain; version=0.0.4; charset=utf-8' : TEXT,
      answer.body,
    );
  }

  private reply(
    res: ServerResponse,
    status: number,
    contentType: string,
    body: string | Buffer,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, {
      ...this.headers,
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(body),
      'X-Content-Type-Options': 'nosniff',
      ...headers,
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }
}
