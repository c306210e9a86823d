import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface CapturedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  /** the invite link in the text part, if any */
  link: string | null;
}

export interface SmtpSink {
  /** `smtp://127.0.0.1:<port>` for SMTP_URL */
  url: string;
  mails: CapturedMail[];
  /** waits until `count` mails have been accepted (or fails after `timeoutMs`) */
  waitFor(count: number, timeoutMs?: number): Promise<CapturedMail[]>;
  /**
   * Runs before a mail is accepted; throwing refuses it with a 4xx (a temporary failure), so the
   * mail is not delivered. The default accepts everything.
   */
  beforeAccept: (mail: CapturedMail) => void | Promise<void>;
  close(): Promise<void>;
}

/** A real SMTP server on a free port, in this process: mail is parsed and kept in `mails`. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const waiters: Array<() => void> = [];
  const sink: SmtpSink = {
    url: '',
    mails: [],
    beforeAccept: () => undefined,
    async waitFor(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (sink.mails.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${count} mails, got ${sink.mails.length}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 200));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return sink.mails;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream: SMTPServerDataStream, _session: SMTPServerSession, callback: (error?: Error | null) => void) {
      simpleParser(stream)
        .then(async (parsed: ParsedMail) => {
          const mail = toCaptured(parsed);
          await sink.beforeAccept(mail);
          sink.mails.push(mail);
          waiters.splice(0).forEach((wake) => wake());
          callback();
        })
        .catch((error: unknown) => {
          const refusal = Object.assign(new Error(error instanceof Error ? error.message : String(error)), { responseCode: 451 });
          callback(refusal);
        });
    },
  });
  // A worker killed mid-connection (the replicas and invite-workers tests SIGKILL workers) resets
  // its socket: smtp-server reports that as an 'error' event, which unheard would fail the test file.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('the SMTP sink has no port');
  sink.url = `smtp://127.0.0.1:${address.port}`;
  return sink;
}

function toCaptured(parsed: ParsedMail): CapturedMail {
  const to = Array.isArray(parsed.to) ? parsed.to[0]?.text : parsed.to?.text;
  const text = parsed.text ?? '';
  return {
    to: to ?? '',
    subject: parsed.subject ?? '',
    text,
    html: typeof parsed.html === 'string' ? parsed.html : '',
    messageId: parsed.messageId ?? '',
    link: /https?:\/\/\S+\/invites\/[A-Za-z0-9_-]+/.exec(text)?.[0] ?? null,
  };
}
