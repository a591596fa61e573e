/** The acks of one invalidation: those received, and once the live instances are known, the wait. */
export class Acks {
  private readonly received = new Set<string>();
  private missing?: Set<string>;
  private done?: () => void;

  add(instance: string): void {
    if (!this.missing) this.received.add(instance);
    else if (this.missing.delete(instance) && this.missing.size === 0) this.done?.();
  }

  /** Resolves once every one of `instances` has acked. */
  expect(instances: string[]): Promise<void> {
    this.missing = new Set(instances.filter((instance) => !this.received.has(instance)));
    if (this.missing.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.done = resolve));
  }
}
