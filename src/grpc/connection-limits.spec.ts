import { EventEmitter } from 'node:events';
import {
  connect,
  createServer,
  type ClientHttp2Session,
  type Http2Server,
  type Http2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { openStreamCount } from './connection-limits';

describe(openStreamCount.name, () => {
  let server: Http2Server;
  let client: ClientHttp2Session;
  let counts: Array<() => number>;
  let streams: ServerHttp2Stream[];

  beforeEach(async () => {
    counts = [];
    streams = [];
    server = createServer();
    server.on('session', (session) => counts.push(openStreamCount(session)));
    server.on('stream', (stream) => streams.push(stream as ServerHttp2Stream));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  afterEach(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const until = async (done: () => boolean) => {
    while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it("counts a session's open streams from Node's own state, each until it closes", async () => {
    const requests = [client.request({ ':path': '/a' }), client.request({ ':path': '/b' })];
    await until(() => streams.length === 2);

    expect(counts[0]()).toBe(2);
    streams[0].respond({ ':status': 200 });
    streams[0].end();
    requests[0].resume();
    await until(() => counts[0]() === 1);
    expect(counts[0]()).toBe(1);
    requests[1].close();
    await until(() => counts[0]() === 0);
  });

  it('counts them with a listener per stream where the session keeps no such state', () => {
    const session = new EventEmitter() as unknown as Http2Session;
    const sut = openStreamCount(session);
    const [a, b] = [new EventEmitter(), new EventEmitter()];

    session.emit('stream', a);
    session.emit('stream', b);
    expect(sut()).toBe(2);
    a.emit('close');
    expect(sut()).toBe(1);
  });
});
