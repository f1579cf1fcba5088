import { request } from 'node:http';
import { createServer } from 'node:net';

/**
 * Users of a runtime that has no metrics of its own: streamed chats sent at a steady rate
 * through the metering proxy, each read to its end. What they get is what the proxy measures.
 * Failures (the proxy not up yet, the runtime down) are what a user would see; they are
 * ignored here and counted there.
 */
export class ChatClients {
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;

  constructor(
    private readonly url: string,
    private readonly model: string,
    private readonly requestsPerSecond: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.send(), 1000 / this.requestsPerSecond);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private send(): void {
    this.sent++;
    const body = JSON.stringify({
      model: this.model,
      messages: [{ role: 'user', content: `Question ${this.sent}: why is the sky blue?` }],
    });
    const req = request(`${this.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: 60_000,
    });
    req.on('response', (res) => res.resume());
    req.on('timeout', () => req.destroy());
    req.on('error', () => undefined);
    req.end(body);
  }
}

/** A port nothing listens on now (the OS picks it; the server started next takes it). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
