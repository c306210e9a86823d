import { FixedClock } from '@app/config';

/**
 * A clock that runs in real time from where it is set, and can still be set or moved: for tests
 * where BullMQ's timers (real time) and the service's clock must agree.
 */
export class TickingClock extends FixedClock {
  private offset = 0;

  constructor(start: Date = new Date()) {
    super(start);
    this.offset = start.getTime() - Date.now();
  }

  override now(): Date {
    return new Date(Date.now() + this.offset);
  }

  override set(date: Date): void {
    this.offset = date.getTime() - Date.now();
  }

  override advance(ms: number): void {
    this.offset += ms;
  }
}
