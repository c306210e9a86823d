import cliProgress from 'cli-progress';

/** How a long command shows how far it has got: a bar on a terminal, a line now and then otherwise. */
export interface Progress {
  update(done: number, total: number): void;
  /** ends the display; a command prints its own summary after this */
  stop(): void;
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${Math.ceil(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Items a second since `startedAt` (ms), and the time left at that rate. */
function pace(done: number, total: number, startedAt: number, now: number): { rate: number; eta: string } {
  const seconds = Math.max(now - startedAt, 1) / 1000;
  const rate = done / seconds;
  return { rate, eta: duration(rate > 0 ? (total - done) / rate : Infinity) };
}

/** A progress bar with the rate and the time left, redrawn in place (cli-progress). */
export class ProgressBar implements Progress {
  private readonly bar: cliProgress.SingleBar;
  private readonly startedAt = Date.now();
  private started = false;

  constructor(label: string, unit: string, stream: NodeJS.WritableStream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {percentage}% | {done}/{all} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(done: number, total: number): void {
    const payload = { done: count(done), all: count(total), rate: count(pace(done, total, this.startedAt, Date.now()).rate) };
    if (!this.started) {
      this.started = true;
      this.bar.start(total, done, payload);
    } else {
      this.bar.setTotal(total);
      this.bar.update(done, payload);
    }
  }

  stop(): void {
    if (this.started) this.bar.stop();
    this.started = false;
  }
}

/** Plain lines, at most one every `everyMs`, for logs and pipes where a redrawn bar would be noise. */
export class ProgressLines implements Progress {
  private readonly startedAt: number;
  private lastAt: number;

  constructor(
    private readonly label: string,
    private readonly unit: string,
    private readonly print: (line: string) => void,
    private readonly everyMs = 1000,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
    this.lastAt = this.startedAt;
  }

  update(done: number, total: number): void {
    const now = this.now();
    if (now - this.lastAt < this.everyMs) return;
    this.lastAt = now;
    const { rate, eta } = pace(done, total, this.startedAt, now);
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    this.print(
      `${this.label}: ${count(done)} of ${count(total)} ${this.unit} (${percent}%), ${count(rate)} ${this.unit}/s, about ${eta} left`,
    );
  }

  stop(): void {}
}
