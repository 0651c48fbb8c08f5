import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP relay to the test server that can refuse connections for a while, as a restarting server does. */
export class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: URL) {}

  async up() {
    this.server = createServer((client) => {
      const upstream = connect(Number(this.target.port || 5432), this.target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((done) => this.server!.listen(this.port, '127.0.0.1', done));
    this.port = (this.server!.address() as { port: number }).port;
  }

  /** Drops every connection and refuses new ones. */
  async down() {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((done) => this.server?.close(done));
  }

  url(database: URL) {
    const url = new URL(database);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }
}
