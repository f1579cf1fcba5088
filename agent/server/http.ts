import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { constants, gzipSync } from 'node:zlib';
import type { SourceStatus } from '../core/collector.js';
import type { Logger } from '../core/logger.js';
import { BasicAuth, type WebSecurity } from './web-config.js';

export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
  statuses(): { name: string; status: SourceStatus }[];
  /** The probe's cached result for a target and module, blackbox_exporter style. */
  probe?(target: string, module: string): { readonly status: number; readonly body: string };
}

const TEXT = 'text/plain; charset=utf-8';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxRequests: number;
  readonly version: string;
  /** Open connections at once (default 128). */
  readonly maxConnections?: number;
  /** Longest a client may take to send its headers (default 10 s). */
  readonly headerTimeoutMs?: number;
  /** TLS, basic auth and extra headers from the exporter-toolkit web config file. */
  readonly security?: WebSecurity;
}

/** Request headers larger than this are refused: the agent reads a path and a few headers. */
const MAX_HEADER_BYTES = 8 * 1024;

/** /metrics, /healthz and a landing page; at most `maxRequests` requests at once. */
export class MetricsServer {
  private readonly server: Server;
  private readonly auth: BasicAuth | undefined;
  private inFlight = 0;

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
    this.server = tls
      ? createTlsServer({ ...serverOptions, ...tls }, handler)
      : createServer(serverOptions, handler);
    this.auth = options.security?.users ? new BasicAuth(options.security.users) : undefined;
    // A client that trickles its headers (slowloris) or its request is cut off.
    this.server.headersTimeout = headerTimeout;
    this.server.requestTimeout = Math.max(30_000, headerTimeout + 1000);
    this.server.keepAliveTimeout = 65_000;
    this.server.maxHeadersCount = 64;
    this.server.maxConnections = options.maxConnections ?? 128;
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
        else reject(new Error(`cannot listen on ${where}: ${error.message}`));
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
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return this.reply(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', {
        Allow: 'GET, HEAD',
      });
    }
    if (this.inFlight >= this.options.maxRequests) {
      return this.reply(res, 503, 'text/plain; charset=utf-8', 'too many concurrent requests\n');
    }
    this.inFlight++;
    try {
      const path = (req.url ?? '/').split('?')[0];
      // Liveness stays open, as with node_exporter: a probe needs no credentials.
      if (this.auth && path !== '/healthz' && !(await this.auth.check(req.headers.authorization))) {
        return this.reply(res, 401, TEXT, 'unauthorized\n', {
          'WWW-Authenticate': 'Basic realm="inferwatch", charset="UTF-8"',
        });
      }
      if (path === '/metrics') await this.serveMetrics(req, res);
      else if (path === '/probe') this.serveProbe(req, res);
      else if (path === '/healthz') this.reply(res, 200, 'text/plain; charset=utf-8', 'ok\n');
      else if (path === '/') this.reply(res, 200, 'text/html; charset=utf-8', this.landingPage());
      else this.reply(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    } catch (error) {
      this.logger.error({ err: error }, 'request failed');
      if (!res.headersSent) this.reply(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    } finally {
      this.inFlight--;
    }
  }

  private async serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await this.source.metrics();
    const accepts = String(req.headers['accept-encoding'] ?? '');
    if (/\bgzip\b/.test(accepts)) {
      // Fastest level, inline: a ~150 KB exposition compresses in well under a millisecond,
      // less than the thread-pool round trip of the async API would add to the tail.
      const zipped = gzipSync(body, { level: constants.Z_BEST_SPEED });
      this.reply(res, 200, this.source.contentType, zipped, {
        'Content-Encoding': 'gzip',
        Vary: 'Accept-Encoding',
      });
    } else {
      this.reply(res, 200, this.source.contentType, body, { Vary: 'Accept-Encoding' });
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
      ...this.options.security?.headers,
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(body),
      'X-Content-Type-Options': 'nosniff',
      ...headers,
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  private landingPage(): string {
    const rows = this.source
      .statuses()
      .map(
        ({ name, status }) =>
          `<tr><td>${escape(name)}</td><td>${escape(status.state)}</td><td>${escape(status.detail)}</td></tr>`,
      )
      .join('\n');
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>inferwatch</title></head>
<body>
<h1>inferwatch ${escape(this.options.version)}</h1>
<p>Observability agent for LLM inference nodes.</p>
<ul>
<li><a href="/metrics">/metrics</a>: Prometheus exposition</li>
<li><a href="/healthz">/healthz</a>: liveness</li>
<li>/probe?target=NAME&amp;module=latency|canary: the probe's last result, blackbox_exporter style</li>
</ul>
<h2>Sources</h2>
<table>
<tr><th>collector</th><th>state</th><th>detail</th></tr>
${rows}
</table>
</body></html>
`;
  }
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
