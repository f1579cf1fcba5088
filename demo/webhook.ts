import { createServer, type Server } from 'node:http';

/** One alert as Alertmanager's webhook sends it. */
export interface WebhookAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
}

export interface Notification {
  /** The last path segment of the URL it came to: pager, ticket or heartbeat in the example. */
  readonly receiver: string;
  /** Date.now() when it arrived. */
  readonly at: number;
  readonly status: string;
  readonly alerts: readonly WebhookAlert[];
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The other end of alerts/alertmanager.example.yml: an HTTP server on 127.0.0.1:5001 that
 * records what Alertmanager delivers to /pager, /ticket and /heartbeat.
 */
export class WebhookReceiver {
  readonly notifications: Notification[] = [];
  private readonly server: Server;
  private readonly listeners = new Set<(n: Notification) => void>();

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY_BYTES) chunks.push(c);
      });
      req.on('end', () => {
        res.writeHead(size > MAX_BODY_BYTES ? 413 : 200).end();
        if (size > MAX_BODY_BYTES) return;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            status?: string;
            alerts?: WebhookAlert[];
          };
          const notification: Notification = {
            receiver: (req.url ?? '/').split('?')[0]?.split('/').filter(Boolean).pop() ?? '',
            at: Date.now(),
            status: body.status ?? '',
            alerts: body.alerts ?? [],
          };
          this.notifications.push(notification);
          for (const listener of this.listeners) listener(notification);
        } catch {
          // Not Alertmanager: ignored.
        }
      });
    });
  }

  onNotification(listener: (n: Notification) => void): void {
    this.listeners.add(listener);
  }

  async listen(port = 5001, host = '127.0.0.1'): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
