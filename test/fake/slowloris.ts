import { connect, type Socket } from 'node:net';

/**
 * `count` connections that send a request's headers a line at a time, every `dripMs`, and
 * never finish them: the slowloris attack. Resolves once all are connected (or refused); the
 * caller destroys the sockets.
 */
export async function slowloris(port: number, count: number, dripMs = 500): Promise<Socket[]> {
  const sockets: Socket[] = [];
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => {
            socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
            resolve();
          });
          socket.on('error', () => resolve());
          const drip = setInterval(() => {
            if (!socket.destroyed) socket.write('X-Drip: 1\r\n');
          }, dripMs);
          socket.on('close', () => clearInterval(drip));
          sockets.push(socket);
        }),
    ),
  );
  return sockets;
}
