/**
 * Group commit: writes submitted while earlier ones are in flight wait and then go together, as one
 * batch. An idle service writes each at once (no timer, no added latency); under load, batches
 * grow with the load, so round trips and commits per write fall. A batch that fails is written
 * again item by item, so each caller gets the outcome of its own write, never another's.
 */
export class WriteBatcher<T> {
  private readonly pending: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly options: { maxInFlight: number; maxBatch: number },
  ) {}

  submit(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.options.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        this.drain();
      });
    }
  }

  private async run(batch: WriteBatcher<T>['pending']): Promise<void> {
    try {
      await this.write(batch.map((b) => b.item));
      for (const b of batch) b.resolve();
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      await Promise.all(
        batch.map((b) =>
          this.write([b.item]).then(
            () => b.resolve(),
            (e: unknown) => b.reject(e),
          ),
        ),
      );
    }
  }
}
