// The SMTP server the worker mails to, in the bench's own process.
import { performance } from 'node:perf_hooks';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { onCleanUp } from './support.js';

export interface MailSink {
  /** `smtp://127.0.0.1:<port>` for SMTP_URL */
  url: string;
  /** performance.now() at each accepted DATA, by envelope recipient (lower-cased) */
  accepted: Map<string, number[]>;
  close(): Promise<void>;
}

/**
 * A real SMTP server that reads each message to its end and accepts it; the accept time is taken
 * just before the 250 reply. It does not parse the mail: the envelope names the recipient.
 */
export async function startMailSink(): Promise<MailSink> {
  const accepted = new Map<string, number[]>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // The worker keeps a pool of connections open; closing must not wait 30 s for them.
    closeTimeout: 1_000,
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null) => void) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        const at = performance.now();
        for (const { address } of session.envelope.rcptTo) {
          const key = address.toLowerCase();
          const times = accepted.get(key);
          if (times) times.push(at);
          else accepted.set(key, [at]);
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('the SMTP sink has no port');
  const close = onCleanUp(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `smtp://127.0.0.1:${address.port}`, accepted, close };
}
