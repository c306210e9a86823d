import { WriteBatcher } from './write-batcher.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A write the test finishes by hand, recording the batches it was given. */
function aWrite(): { write: (items: number[]) => Promise<void>; batches: number[][]; finish: (error?: Error) => void } {
  const batches: number[][] = [];
  const waiting: ((error?: Error) => void)[] = [];
  return {
    batches,
    write: (items) => {
      batches.push(items);
      return new Promise<void>((resolve, reject) => waiting.push((error) => (error ? reject(error) : resolve())));
    },
    finish: (error) => waiting.shift()?.(error),
  };
}

describe(WriteBatcher.name, () => {
  it('writes at once while fewer than maxInFlight writes run, then gathers what arrives into one batch', async () => {
    const sut = aWrite();
    const batcher = new WriteBatcher(sut.write, { maxInFlight: 2, maxBatch: 10 });

    const done = [1, 2, 3, 4, 5].map((n) => batcher.submit(n));
    await tick();
    expect(sut.batches).toEqual([[1], [2]]);

    sut.finish();
    await tick();
    expect(sut.batches).toEqual([[1], [2], [3, 4, 5]]);
    sut.finish();
    sut.finish();
    await expect(Promise.all(done)).resolves.toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('puts at most maxBatch writes in a batch', async () => {
    const sut = aWrite();
    const batcher = new WriteBatcher(sut.write, { maxInFlight: 1, maxBatch: 2 });

    const done = [1, 2, 3, 4, 5].map((n) => batcher.submit(n));
    for (let i = 0; i < 3; i++) {
      await tick();
      sut.finish();
    }
    await Promise.all(done);

    expect(sut.batches).toEqual([[1], [2, 3], [4, 5]]);
  });

  it('writes a failed batch again item by item, so only the write that fails gets the error', async () => {
    const batches: number[][] = [];
    const batcher = new WriteBatcher<number>(
      (items) => {
        batches.push(items);
        return items.includes(3) ? Promise.reject(new Error('refused 3')) : Promise.resolve();
      },
      { maxInFlight: 1, maxBatch: 10 },
    );
    const first = batcher.submit(0);

    const outcomes = await Promise.allSettled([first, ...[1, 2, 3, 4].map((n) => batcher.submit(n))]);

    expect(batches).toEqual([[0], [1, 2, 3, 4], [1], [2], [3], [4]]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[3] as PromiseRejectedResult).reason).toEqual(new Error('refused 3'));
  });
});
