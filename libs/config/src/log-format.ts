import type { TransportSingleOptions } from 'pino';

/**
 * Human-readable lines (pino-pretty) when the process writes to a terminal, JSON lines otherwise:
 * a newcomer's `npm start` reads well, and containers, CI and log shippers get JSON.
 */
export function logTransport(stream: { isTTY?: boolean } = process.stdout): TransportSingleOptions | undefined {
  return stream.isTTY ? { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } : undefined;
}
