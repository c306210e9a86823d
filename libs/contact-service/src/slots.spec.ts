import { Busy, Slots } from './slots.js';

/** A task that stays running until the test releases it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe(Slots.name, () => {
  it('runs at most `size` tasks at once and starts the others in arrival order', async () => {
    const slots = new Slots(2);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      slots.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);

    gates[1]!.open();
    await tick();
    expect(started).toEqual([0, 1, 2]);

    gates[0]!.open();
    gates[2]!.open();
    gates[3]!.open();
    await expect(Promise.all(runs)).resolves.toEqual([0, 1, 2, 3]);
  });

  it('frees the slot when a task fails', async () => {
    const slots = new Slots(1);
    await expect(slots.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(slots.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('refuses a size below one', () => {
    expect(() => new Slots(0)).toThrow(RangeError);
  });
});

describe(`${Slots.name} bound`, () => {
  it('refuses with Busy, and a Retry-After of at least a second, once the waiting work would take longer than maxWaitMs', async () => {
    const sut = new Slots(1, { maxWaitMs: 1000 });
    // One finished task of about 100 ms: the slot can then run about 10 such tasks within a second.
    await sut.run(() => new Promise((resolve) => setTimeout(resolve, 100)));
    const first = gate();
    const runs = [sut.run(() => first.promise)];
    for (let i = 0; i < sut.capacity; i++) runs.push(sut.run(() => Promise.resolve()));

    const refused = sut.run(() => Promise.resolve());

    await expect(refused).rejects.toBeInstanceOf(Busy);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: expect.any(Number) });
    expect(((await refused.catch((e: unknown) => e)) as Busy).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(sut.capacity).toBeGreaterThanOrEqual(5);
    expect(sut.capacity).toBeLessThanOrEqual(12);
    first.open();
    await Promise.all(runs);
    await expect(sut.run(() => Promise.resolve('after'))).resolves.toBe('after');
  });

  it('lets maxWaitingUnmeasured wait before any task has finished', async () => {
    const sut = new Slots(1, { maxWaitingUnmeasured: 2 });
    const first = gate();
    const runs = [sut.run(() => first.promise), sut.run(() => Promise.resolve()), sut.run(() => Promise.resolve())];

    await expect(sut.run(() => Promise.resolve())).rejects.toBeInstanceOf(Busy);
    first.open();
    await Promise.all(runs);
  });
});

describe(`${Slots.name} capacity`, () => {
  it('lets at least one task a slot wait, however slow the tasks were', async () => {
    const sut = new Slots(2, { maxWaitMs: 10 });
    await sut.run(() => new Promise((resolve) => setTimeout(resolve, 50)));

    expect(sut.capacity).toBe(2);
  });
});
