import { Metadata, status } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { BlockList } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../../src/common/paths';
import { envSchema } from '../../src/config/env-schema';
import { StreamTrendingRequest } from '../../src/generated/client/movies/v1/movie_service';
import { CallOrigins } from '../../src/grpc/call-origin';
import { MovieApi } from '../../src/grpc/movie-api';
import { TrendingFeed } from '../../src/trending/trending-feed.service';
import { hex, movieFactory } from '../factories/movie.factory';
import { statusOf } from '../support/grpc-status';
import { createPeerNamespace, whyNoPeers, type PeerNamespace } from '../support/peer-namespace';
import { relayFromPeer, type PeerRelay } from '../support/peer-relay';
import { SnapshotReader } from '../support/snapshot-reader';
import { startTestApp, type TestApp } from '../support/test-app';
import { until } from '../support/wait';

const PEER_CAP = /\bTRENDING_MAX_STREAMS_PER_PEER\b/;
/** The default per-client cap: the 33rd stream is the first refused. */
const CAP = 32;

/** What a proxy sends: `x-forwarded-for`, the client's own value first, the proxy's last. */
const forwardedFor = (value?: string) => {
  const metadata = new Metadata();
  if (value !== undefined) metadata.set('x-forwarded-for', value);
  return metadata;
};

describe('docker-compose.cluster.yml: Envoy forwards the client address, the instances trust Envoy', () => {
  type Compose = {
    services: Record<
      string,
      {
        environment?: Record<string, string>;
        networks?: Record<string, { ipv4_address?: string }>;
      }
    >;
    networks: Record<string, { ipam: { config: Array<{ subnet: string; ip_range?: string }> } }>;
    configs: { envoy: { content: string } };
  };
  type Listener = {
    filter_chains: Array<{
      filters: Array<{ typed_config: { use_remote_address?: boolean; skip_xff_append?: boolean } }>;
    }>;
  };
  const compose = parse(readFileSync(join(projectRoot(), 'docker-compose.cluster.yml'), 'utf8'), {
    merge: true,
  }) as Compose;

  const envoyAddress = () => compose.services.envoy.networks?.default.ipv4_address ?? '';
  const peer = (address: string) => ({ getPeer: () => `${address}:40000` });

  it('Envoy appends the address of whoever connected to it (use_remote_address), from a fixed address', () => {
    const envoy = parse(compose.configs.envoy.content) as {
      static_resources: { listeners: Listener[] };
    };
    const [manager] = envoy.static_resources.listeners[0].filter_chains[0].filters;
    const [network] = compose.networks.default.ipam.config;
    const within = (cidr: string) => {
      const [address, prefix] = cidr.split('/');
      const block = new BlockList();
      block.addSubnet(address, Number(prefix), 'ipv4');
      return block.check(envoyAddress(), 'ipv4');
    };

    expect(manager.typed_config).toMatchObject({ use_remote_address: true });
    expect(manager.typed_config.skip_xff_append).not.toBe(true);
    // Docker gives the other containers addresses from ip_range only, so none can take Envoy's.
    expect(within(network.subnet)).toBe(true);
    expect(within(network.ip_range!)).toBe(false);
  });

  it.each(['app-1', 'app-2'])(
    '%s trusts Envoy: a call from Envoy is counted by the client Envoy names',
    (name) => {
      const trusted = envSchema.shape.TRUSTED_PROXIES.parse(
        compose.services[name].environment?.TRUSTED_PROXIES,
      );
      const origins = new CallOrigins(trusted);

      expect(origins.of(peer(envoyAddress()), forwardedFor('1.2.3.4, 203.0.113.7')).client).toBe(
        '203.0.113.7',
      );
      expect(origins.of(peer('172.16.0.99'), forwardedFor('203.0.113.7')).client).toBe(
        '172.16.0.99',
      );
    },
  );
});

/**
 * Peers at non-loopback addresses need network namespaces (root, iproute2). Without them the spec
 * fails, unless PEER_TESTS=skip says to skip it (it then says so in the run's output).
 */
const noPeers = whyNoPeers();
const withPeer = noPeers && process.env.PEER_TESTS === 'skip' ? describe.skip : describe;
if (noPeers && process.env.PEER_TESTS === 'skip')
  console.warn(`trusted-proxy.e2e-spec skipped (PEER_TESTS=skip): no peer namespace, ${noPeers}`);

withPeer('x-forwarded-for: honoured from a peer in TRUSTED_PROXIES, ignored from others', () => {
  const movie = movieFactory({ rating: 4 });
  /** The trusted proxy's peer, and another that is not in TRUSTED_PROXIES. */
  const peers: PeerNamespace[] = [];
  const relays: PeerRelay[] = [];
  const readers: SnapshotReader<unknown>[] = [];
  let t: TestApp;
  let viaProxy: MovieApi;
  let viaStranger: MovieApi;
  let stranger: PeerNamespace;

  beforeAll(async () => {
    if (noPeers)
      throw new Error(
        `no peer namespace (${noPeers}): run as root with iproute2, or PEER_TESTS=skip to skip`,
      );
    const proxy = createPeerNamespace();
    peers.push(proxy);
    stranger = createPeerNamespace();
    peers.push(stranger);
    t = await startTestApp({
      env: { GRPC_HOST: '0.0.0.0', TRUSTED_PROXIES: `192.0.2.0/24, ${proxy.peerAddress}` },
      movies: [movie],
    });
    const port = Number(t.address.split(':')[1]);
    for (const peer of peers)
      relays.push(await relayFromPeer(peer, { host: peer.hostAddress, port }));
    viaProxy = MovieApi.connect(relays[0].address);
    viaStranger = MovieApi.connect(relays[1].address);
  });
  afterEach(async () => {
    readers.splice(0).forEach((reader) => reader.cancel());
    await until(async () => t.app.get(TrendingFeed).openStreams === 0, 5_000);
  });
  afterAll(async () => {
    viaProxy?.close();
    viaStranger?.close();
    relays.forEach((relay) => relay.stop());
    await t?.close();
    peers.forEach((peer) => peer.remove());
  });

  const stream = (api: MovieApi, client?: string) => {
    const request = StreamTrendingRequest.fromPartial({ intervalMs: 1_000 });
    const reader = new SnapshotReader(api.client.streamTrending(request, forwardedFor(client)));
    readers.push(reader);
    return reader;
  };
  /** Streams opened together, each admitted (its first snapshot arrived). */
  const admitted = async (api: MovieApi, clients: string[]) => {
    const opened = clients.map((client) => stream(api, client));
    await Promise.all(opened.map((reader) => reader.waitFor(() => true)));
    return opened;
  };
  const clients = (count: number, address: (i: number) => string) =>
    Array.from({ length: count }, (_, i) => address(i));

  it('from the trusted proxy, 100 streams forwarded for 100 clients are all served', async () => {
    await admitted(
      viaProxy,
      clients(100, (i) => `198.51.100.${i + 1}`),
    );

    expect(t.app.get(TrendingFeed).openStreams).toBe(100);
  });

  it('from the trusted proxy, the 33rd stream forwarded for one client is refused, whatever that client wrote before its address', async () => {
    // The proxy appends the address it saw; what stands before it is the client's own say.
    await admitted(
      viaProxy,
      clients(CAP, (i) => `10.9.${i}.1, 203.0.113.7`),
    );

    const refused = await stream(viaProxy, '10.9.99.1, 203.0.113.7').closed();
    const otherClient = stream(viaProxy, '203.0.113.8');

    expect(refused).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(refused?.details).toMatch(PEER_CAP);
    expect(refused?.details).toContain('203.0.113.7');
    await expect(otherClient.waitFor(() => true)).resolves.toBeDefined();
  });

  it('from a peer not in TRUSTED_PROXIES the header is ignored: its 33rd stream is refused whatever it forwards', async () => {
    await admitted(
      viaStranger,
      clients(CAP, (i) => `198.51.100.${i + 1}`),
    );

    const refused = await stream(viaStranger, '198.51.100.200').closed();

    expect(refused).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(refused?.details).toContain(`${stranger.peerAddress} already has ${CAP}`);
  });

  it('protected mode judges the client the trusted proxy forwards for; from anyone else the header is ignored', async () => {
    const update = (api: MovieApi, client: string | undefined, rating: number) =>
      statusOf(api.updateRating({ id: hex(movie), rating }, forwardedFor(client)));

    expect(await update(viaProxy, '203.0.113.7', 9)).toBe(status.PERMISSION_DENIED);
    expect(await update(viaProxy, undefined, 9)).toBe(status.PERMISSION_DENIED);
    expect(await update(viaStranger, '127.0.0.1', 9)).toBe(status.PERMISSION_DENIED);
    expect((await viaProxy.getMovie({ id: hex(movie) })).movie?.rating).toBe(4);

    expect(await update(viaProxy, '203.0.113.7, 127.0.0.1', 6)).toBe(status.OK);
    expect((await viaProxy.getMovie({ id: hex(movie) })).movie?.rating).toBe(6);
  });
});
