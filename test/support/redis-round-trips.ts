import { connect, createServer, type Socket } from 'node:net';

/**
 * A loopback proxy in front of a Redis that notes the name of each command its clients send, as they send it: the
 * round trips a client costs. (Redis's own INFO commandstats cannot tell them apart from the commands a Lua script
 * runs inside one call.)
 */
export interface CountingProxy {
  /** The Redis URL to connect through. */
  url: string;
  /** Each command sent through the proxy so far, lower case, in order. */
  commands: string[];
  close(): Promise<void>;
}

export async function countingProxy(redisUrl: string): Promise<CountingProxy> {
  const target = new URL(redisUrl);
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port || 6379) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = takeCommands(Buffer.concat([pending, chunk]), commands);
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The proxy has no port');
  return {
    url: `redis://127.0.0.1:${address.port}`,
    commands,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Notes the name of each whole command (a RESP array of bulk strings) in `buffer`; returns the incomplete rest. */
function takeCommands(buffer: Buffer, found: string[]): Buffer {
  let at = 0;
  for (;;) {
    const command = readCommand(buffer, at);
    if (!command) return buffer.subarray(at);
    found.push(command.name);
    at = command.end;
  }
}

function readCommand(buffer: Buffer, at: number): { name: string; end: number } | undefined {
  const line = (from: number) => {
    const end = buffer.indexOf('\r\n', from);
    return end < 0 ? undefined : { value: Number(buffer.toString('latin1', from + 1, end)), next: end + 2 };
  };
  const head = line(at);
  if (!head) return undefined;
  let position = head.next;
  let name = '';
  for (let i = 0; i < head.value; i++) {
    const size = line(position);
    if (!size || buffer.length < size.next + size.value + 2) return undefined;
    if (i === 0) name = buffer.toString('latin1', size.next, size.next + size.value).toLowerCase();
    position = size.next + size.value + 2;
  }
  return { name, end: position };
}
