import { Writable } from 'node:stream';
import { ProgressBar, ProgressLines } from './progress.js';

describe(ProgressLines.name, () => {
  it('prints a line at most once a period, with the share done, the rate and the time left', () => {
    const printed: string[] = [];
    let now = 0;
    const sut = new ProgressLines(
      'verify',
      'events',
      (line) => printed.push(line),
      1000,
      () => now,
    );

    now = 400;
    sut.update(10_000, 100_000);
    now = 2000;
    sut.update(25_000, 100_000);
    now = 2500;
    sut.update(30_000, 100_000);
    now = 4000;
    sut.update(40_000, 100_000);

    expect(printed).toEqual([
      'verify: 25,000 of 100,000 events (25%), 12,500 events/s, about 6 s left',
      'verify: 40,000 of 100,000 events (40%), 10,000 events/s, about 6 s left',
    ]);
  });
});

describe(ProgressBar.name, () => {
  it('draws a bar with the counts, the rate and an ETA on a terminal', () => {
    let drawn = '';
    const terminal = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          drawn += chunk.toString();
          done();
        },
      }),
      { isTTY: true, columns: 200, cursorTo: () => true, clearLine: () => true, moveCursor: () => true },
    );
    const sut = new ProgressBar('replay', 'events', terminal);

    sut.update(500, 2000);
    sut.stop();

    expect(drawn).toMatch(/replay \[.*\] 25% \| 500\/2,000 events \| [\d,]+ events\/s \| ETA /);
  });
});
