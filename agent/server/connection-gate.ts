import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How many times web.max_connections may be open while every connection is serving. */
const BUSY_OVERFLOW = 8;

interface Connection {
  readonly socket: Socket;
  /** A request on it is being answered: it is doing real work, not holding a slot. */
  busy: boolean;
  /** performance.now() when it was let in. */
  readonly since: number;
}

/**
 * Who may hold a connection. At the cap, the oldest one doing nothing (for `graceMs` at least)
 * makes room for a new one. Connections serving a request are never closed for a newcomer:
 * they cost a socket and a share of one rendered body. When none can make room, a new one is
 * let in up to BUSY_OVERFLOW times the cap (a health check must get through a crowd of
 * scrapers), and refused past that.
 */
export class ConnectionGate {
  private readonly connections = new Map<string, Connection>();

  constructor(
    private readonly max: number,
    private readonly graceMs: number,
  ) {}

  admit(socket: Socket): void {
    if (this.connections.size >= this.max) {
      // A connection just let in is spared for a moment, or a crowd of newcomers would close
      // one another (a health check among them) before any could send its request.
      const now = performance.now();
      const idle = [...this.connections.values()].find(
        (c) => !c.busy && now - c.since >= this.graceMs,
      );
      if (idle) {
        this.connections.delete(keyOf(idle.socket));
        idle.socket.destroy();
      } else if (this.connections.size >= this.max * BUSY_OVERFLOW) {
        socket.destroy();
        return;
      }
    }
    const key = keyOf(socket);
    this.connections.set(key, { socket, busy: false, since: performance.now() });
    socket.once('close', () => {
      if (this.connections.get(key)?.socket === socket) this.connections.delete(key);
    });
  }

  /** The request's connection is busy until its answer is done. */
  serving(req: IncomingMessage, res: ServerResponse): void {
    const connection = this.connections.get(keyOf(req.socket));
    if (!connection) return;
    connection.busy = true;
    res.once('close', () => (connection.busy = false));
  }
}

function keyOf(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}\u0000${socket.remotePort ?? ''}`;
}
