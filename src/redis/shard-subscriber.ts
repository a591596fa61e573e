import Redis, { Cluster } from 'ioredis';
import { sleep } from '../common/sleep';
import { duplicateOptions, type RedisClient } from './redis-connection';

const RETRY_MS = 100;

export interface ShardSubscriberHandlers {
  message(channel: string, message: string): void;
  /** Messages may have been lost: the subscription closed, or is being replaced. */
  gap(): void;
}

/**
 * A sharded subscription (SSUBSCRIBE) held on the master of the channels' slot: messages arrive in
 * the order that master ran them, and a master that dies or hands the slot over ends it (a gap)
 * instead of leaving it on a replica. It subscribes again wherever the slot goes, until closed.
 */
export class ShardSubscriber {
  private connection?: Redis;
  private closed = false;
  private slot?: number;

  constructor(
    private readonly client: RedisClient,
    private readonly channels: string[],
    private readonly connectionName: string,
    private readonly handlers: ShardSubscriberHandlers,
  ) {}

  get ready(): boolean {
    return this.connection?.status === 'ready';
  }

  /** Subscribes in the background; retries until it holds the subscription or is closed. */
  async start(): Promise<void> {
    while (!this.closed && !this.connection) {
      const connection = await this.open().catch(() => undefined);
      if (connection && !this.closed) this.connection = connection;
      else if (connection) connection.disconnect();
      else await sleep(RETRY_MS);
    }
  }

  /** Drops the subscription (a gap) and takes it again: for one that went silent. */
  recycle(): void {
    this.connection?.disconnect();
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = this.connection;
    this.connection = undefined;
    await connection?.quit().catch(() => connection.disconnect());
  }

  private async open(): Promise<Redis> {
    const connection = await this.connectionToMaster();
    connection.on('error', () => undefined);
    try {
      await connection.connect();
      const [role] = (await connection.role()) as [string];
      if (role !== 'master') throw new Error('not a master');
      const moved = new Promise<never>((_, reject) =>
        connection.once('moved', () => reject(new Error('the slot moved'))),
      );
      await Promise.race([connection.ssubscribe(...this.channels), moved]);
    } catch (error) {
      connection.disconnect();
      if (this.client instanceof Cluster) this.client.refreshSlotsCache();
      throw error;
    }
    connection.on('smessage', (channel: string, message: string) =>
      this.handlers.message(channel, message),
    );
    connection.once('close', () => {
      if (this.connection !== connection) return;
      this.connection = undefined;
      this.handlers.gap();
      if (this.client instanceof Cluster) this.client.refreshSlotsCache();
      void sleep(RETRY_MS).then(() => this.start());
    });
    return connection;
  }

  /**
   * A connection of its own (never reconnecting by itself) to the master of the channels' slot;
   * on one endpoint a duplicate of the client (behind Sentinel: to the master it names now).
   */
  private async connectionToMaster(): Promise<Redis> {
    const own = {
      connectionName: this.connectionName,
      lazyConnect: true,
      enableOfflineQueue: true,
      retryStrategy: () => null,
      // Behind Sentinel: sentinels that do not answer fail the attempt, retried by start().
      sentinelRetryStrategy: () => null,
    };
    if (!(this.client instanceof Cluster))
      return this.client.duplicate({ ...duplicateOptions(this.client), ...own });
    this.slot ??= await this.client.cluster('KEYSLOT', this.channels[0]);
    const master = this.client.slots[this.slot]?.[0];
    if (!master) throw new Error(`no master known for slot ${this.slot}`);
    const at = master.lastIndexOf(':');
    const port = Number(master.slice(at + 1));
    return new Redis({
      ...this.client.options.redisOptions,
      ...own,
      host: master.slice(0, at),
      port,
    });
  }
}
