import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { ClientStore, InviteTokens, isScope, SCOPES, tokenSecret } from '@app/auth';
import { ContactNotFound, type ApprovalMethod } from '@app/contacts';
import { ContactService, type ErasureView } from '@app/contact-service';
import { ConfigError, loadSettings, logTransport, SystemClock, type AppSettings } from '@app/config';
import { Database, locateDatabase, migrate, withoutCredentials } from '@app/database';
import { EventStore, verifyChains, type ChainReport } from '@app/event-store';
import { rebuildReadTables, type ReadRowDifference, type RebuildProgress, type RebuildReport } from '@app/projections';
import { RoleCatalogue, roleProblems } from '@app/roles';
import { anchorChains, AnchorRefused, departuresFrom, readAnchor, type AnchorDeparture, type ChainAnchor } from './chain-anchor.js';
import { ProgressBar, ProgressLines, type Progress } from './progress.js';
import { forkWorker } from './worker-process.js';

export const USAGE = `usage: npm run cli -- <command>
  migrate                                   create the database if missing and apply migrations
  clients:create --name N --scopes a,b      register an OAuth2 client; prints {"client_id","client_secret","scopes"}
  clients:list                              one JSON line per client: {"client_id","name","scopes","created","revoked"}
                                            (never a secret)
  clients:revoke --client-id ID             cut a client off: the token endpoint refuses it at once, and every API
                                            process refuses its tokens within seconds; prints the client as listed
  roles:create --reference R --title T --approval none|email|admin
                                            add an access role to the catalogue
  start                                     migrate, then run the API and the worker in this process (without
                                            DATABASE_URL, on an embedded Postgres under DATA_DIR, stopped with it)
  replay [--verify] [--dry-run]             rebuild the read tables from the event log (no jobs, no mail) and swap
                                            them in while the API serves; --verify reports every row the rebuilt
                                            tables differ from the live ones in (exit 1 if any); --dry-run leaves
                                            the live tables as they are
  verify                                    recompute every stream's hash chain and version sequence; exit 1
                                            naming the position and stream of the first broken link
  verify --anchor                           then print a chain anchor (every stream's head and the last position,
                                            signed with CHAIN_ANCHOR_KEY) as one JSON document on stdout: keep it
                                            outside the database (npm run --silent cli -- verify --anchor > FILE)
  verify --against FILE                     then check that the log still extends the anchor in FILE (every
                                            anchored head still there with its hash); exit 1 naming the first
                                            stream that does not, or when FILE is not signed with CHAIN_ANCHOR_KEY
  erase --contact ID --reason "…"           erase a person's data (DESIGN §10): records ContactErased and masks every
                                            personal value in the contact's history; prints {"erasure":{…}}
scopes: ${SCOPES.join(', ')}
Without DATABASE_URL, a command uses the embedded Postgres under DATA_DIR: the running server's, or one
started for the command (and migrated) and stopped after it.`;

export class UsageError extends Error {}

/** A check that ran and found something wrong (a broken chain, read tables unlike the log): exit 1. */
export class CheckFailed extends Error {}

const COMMANDS = ['migrate', 'clients:create', 'clients:list', 'clients:revoke', 'roles:create', 'start', 'replay', 'verify', 'erase'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The API's limit on an erasure's reason (DESIGN §10). */
const REASON_MAX = 500;

/** Differences and broken links listed one a line before the command fails; the rest are counted. */
const LISTED = 50;

/**
 * Runs `work` on the command's database: DATABASE_URL, or the embedded Postgres of DATA_DIR (the
 * running server's, or one started for this command, migrated, and stopped after it, also on
 * Ctrl-C). Notices about the embedded instance go to `notice` (stderr), never to the output.
 */
async function onDatabase<T>(
  settings: AppSettings,
  notice: Print,
  work: (url: string) => Promise<T>,
  options: { migrate?: boolean } = {},
): Promise<T> {
  const location = await locateDatabase(settings, 'command', notice);
  const embedded = location.embedded;
  const interrupted = (signal: NodeJS.Signals): void => {
    notice(`${signal}: stopping the embedded Postgres this command started`);
    void location.release().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  if (embedded?.owned) {
    notice(`database: ${location.description} (started for this command)`);
    process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  }
  try {
    // Nobody else migrates an embedded database a command started: a command may be the first thing run on a fresh DATA_DIR.
    if (embedded !== null && options.migrate !== false) await migrate(location.url);
    return await work(location.url);
  } finally {
    process.removeListener('SIGINT', interrupted).removeListener('SIGTERM', interrupted);
    await location.release();
  }
}

async function withDatabase<T>(settings: AppSettings, notice: Print, work: (db: Database) => Promise<T>): Promise<T> {
  return onDatabase(settings, notice, async (url) => {
    const db = new Database({ url, applicationName: 'contacts-cli', max: 2 });
    try {
      return await work(db);
    } finally {
      await db.close();
    }
  });
}

function parseOptions(args: string[]): { values: Record<string, string | boolean | undefined> } {
  try {
    return parseArgs({
      args,
      options: {
        name: { type: 'string' },
        scopes: { type: 'string' },
        'client-id': { type: 'string' },
        reference: { type: 'string' },
        title: { type: 'string' },
        approval: { type: 'string' },
        verify: { type: 'boolean' },
        anchor: { type: 'boolean' },
        against: { type: 'string' },
        'dry-run': { type: 'boolean' },
        contact: { type: 'string' },
        reason: { type: 'string' },
      },
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Where a command's output goes: stdout for the CLI, a list in tests. */
export type Print = (line: string) => void;

/**
 * Runs one operator command; throws UsageError, ConfigError, RoleExists or CheckFailed for the
 * caller to report. Long commands draw a progress bar on `terminal` when given (a TTY), and print
 * a progress line every second otherwise. `notice` gets what is said about the embedded Postgres
 * (stderr: stdout stays the command's output, e.g. the JSON line of clients:create).
 */
export async function run(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  print: Print = console.log,
  terminal?: NodeJS.WritableStream,
  notice: Print = console.error,
): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseOptions(rest);
  const text = (name: string): string | undefined => (typeof values[name] === 'string' ? values[name] : undefined);
  const progress = (label: string, unit: string): Progress =>
    terminal ? new ProgressBar(label, unit, terminal) : new ProgressLines(label, unit, print);
  if (command === undefined || command === 'help' || command === '--help') {
    print(USAGE);
    return;
  }
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command "${command}"`);
  if (command !== 'replay' && (values.verify !== undefined || values['dry-run'] !== undefined)) {
    throw new UsageError('--verify and --dry-run are options of replay');
  }
  if (command !== 'verify' && (values.anchor !== undefined || values.against !== undefined)) {
    throw new UsageError('--anchor and --against are options of verify');
  }
  const settings = loadSettings(env);
  switch (command) {
    case 'migrate': {
      const applied = await onDatabase(settings, notice, (url) => migrate(url), { migrate: false });
      print(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'schema is up to date');
      return;
    }
    case 'clients:create': {
      const scopes = (text('scopes') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const name = text('name');
      if (!name || scopes.length === 0) throw new UsageError('clients:create needs --name and --scopes');
      const unknown = scopes.filter((s) => !isScope(s));
      if (unknown.length > 0) throw new UsageError(`unknown scope(s): ${unknown.join(', ')}; known: ${SCOPES.join(', ')}`);
      const client = await withDatabase(settings, notice, (db) => new ClientStore(db).create(name, scopes.filter(isScope)));
      print(JSON.stringify(client));
      return;
    }
    case 'clients:list': {
      const clients = await withDatabase(settings, notice, (db) => new ClientStore(db).list());
      for (const client of clients) print(JSON.stringify(client));
      return;
    }
    case 'clients:revoke': {
      const clientId = text('client-id');
      if (!clientId) throw new UsageError('clients:revoke needs --client-id');
      const client = await withDatabase(settings, notice, (db) => new ClientStore(db).revoke(clientId));
      print(JSON.stringify(client));
      return;
    }
    case 'roles:create': {
      const reference = text('reference');
      const title = text('title');
      if (!reference || !title) throw new UsageError('roles:create needs --reference and --title');
      const wanted = { reference, title, approvalMethod: (text('approval') ?? 'none') as ApprovalMethod };
      const problems = roleProblems(wanted);
      if (problems.length > 0) throw new UsageError(problems.join('; '));
      const role = await withDatabase(settings, notice, (db) => new RoleCatalogue(db).create(wanted));
      print(JSON.stringify(role));
      return;
    }
    case 'start':
      await start(settings);
      return;
    case 'replay': {
      const compare = values.verify === true;
      const dryRun = values['dry-run'] === true;
      const bar = progress('replay', 'events');
      const startedAt = performance.now();
      const report = await withDatabase(settings, notice, (db) =>
        rebuildReadTables(db, { compare, dryRun, onProgress: (p) => showRebuild(p, bar, print) }),
      ).finally(() => bar.stop());
      print(rebuildSummary(report, (performance.now() - startedAt) / 1000));
      const differences = report.differences ?? [];
      if (compare && differences.length === 0) print('replay --verify: the rebuilt tables equal the live ones, row for row');
      if (differences.length > 0) {
        for (const d of differences.slice(0, LISTED)) print(`replay --verify: ${describeDifference(d)}`);
        if (differences.length > LISTED) print(`replay --verify: … and ${differences.length - LISTED} more`);
        throw new CheckFailed(
          `${differences.length} row(s) of the live read tables differed from the log` +
            (report.swapped ? '; the rebuilt tables, which match the log, are now live' : '; the live tables are unchanged (--dry-run)'),
        );
      }
      return;
    }
    case 'verify': {
      const anchoring = values.anchor === true;
      const against = text('against');
      if (anchoring && against !== undefined) throw new UsageError('verify takes --anchor or --against, not both');
      const key = anchoring || against !== undefined ? anchorKey(settings) : '';
      // Read (and its signature checked) before the log is: a wrong key or file fails at once.
      const anchor = against === undefined ? null : readAnchor(await readAnchorFile(against), key);
      // With --anchor, stdout holds the JSON document alone: everything else goes to stderr.
      const say = anchoring ? notice : print;
      const bar = anchoring && !terminal ? new ProgressLines('verify', 'events', notice) : progress('verify', 'events');
      await withDatabase(settings, notice, async (db) => {
        const report = await verifyChains(db, { onProgress: (done, total) => bar.update(done, total) }).finally(() => bar.stop());
        reportChains(report, say);
        if (anchoring) print(JSON.stringify(await anchorChains(db, key, new Date())));
        if (anchor) reportAnchor(anchor, await departuresFrom(db, anchor), print);
      });
      return;
    }
    case 'erase': {
      const contactId = text('contact');
      const reason = text('reason');
      if (contactId === undefined || !UUID.test(contactId)) throw new UsageError('erase needs --contact <id>, a contact id (a UUID)');
      if (reason === undefined || reason.length === 0 || reason.length > REASON_MAX) {
        throw new UsageError(`erase needs --reason "…", 1 to ${REASON_MAX} characters`);
      }
      const erasure = await withDatabase(settings, notice, (db) => eraseContact(db, settings, contactId.toLowerCase(), reason));
      print(JSON.stringify({ erasure }));
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/**
 * `erase`: the API's erasure (DESIGN §10) from the command line, recorded with the operator's
 * user name as the client (metadata.clientId), so the history says who.
 */
async function eraseContact(db: Database, settings: AppSettings, contactId: string, reason: string): Promise<ErasureView> {
  const contacts = new ContactService(db, new EventStore(db), new RoleCatalogue(db), new SystemClock(), {
    bcryptCost: settings.BCRYPT_COST,
    inviteTtlMs: settings.inviteTtlMs,
    // An erasure issues no invite: the secret is never used to make a token.
    inviteTokens: new InviteTokens(await tokenSecret(db, settings.TOKEN_SECRET)),
  });
  const metadata = { clientId: `cli:${userInfo().username}`, requestId: randomUUID(), correlationId: null, causationId: null };
  try {
    return await contacts.erase(contactId, reason, metadata);
  } catch (error) {
    if (error instanceof ContactNotFound) throw new UsageError(`no contact has the id ${contactId}`);
    throw error;
  }
}

/** The signals Nest closes the applications on (enableShutdownHooks) that a terminal or a supervisor sends. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

/**
 * `npm start`: the database (DATABASE_URL, or the embedded Postgres of DATA_DIR, which this process
 * then owns), migrations, then the API and the worker. On a stop signal the applications close
 * (their own shutdown hooks: stop accepting, finish requests and jobs, close pools), then the
 * embedded Postgres stops, then the process exits 0.
 */
async function start(settings: AppSettings): Promise<void> {
  const logger = pino({ level: settings.LOG_LEVEL, transport: logTransport() }).child({ context: 'Start' });
  const location = await locateDatabase(settings, 'server', (line) => logger.info(line));
  const apps: { close(): Promise<void> }[] = [];
  let stopping = false;
  const stop = (): void => {
    // Nest's handlers got the same signal and are closing the applications; close() waits for
    // that same shutdown. Nest re-raises the signal when it is done: it finds this listener.
    if (stopping) return;
    stopping = true;
    void Promise.allSettled(apps.map((app) => app.close()))
      .then(() => location.release())
      .then(
        () => {
          if (location.embedded?.owned) logger.info(`stopped the ${location.description}`);
          process.exit(0);
        },
        (error: unknown) => {
          logger.error(`stopping the embedded Postgres: ${error instanceof Error ? error.message : String(error)}`);
          process.exit(1);
        },
      );
  };
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
  try {
    // Loaded here, not at the top: the other commands have no use for Nest and the applications.
    const { createApi } = await import('../../api/src/index.js');
    const config = settings.withDatabaseUrl(location.url);
    logger.info(`database: ${location.description}; queues: ${queuesOf(config)}; mail: ${mailOf(config)}`);
    await migrate(config.DATABASE_URL);
    const worker = forkWorker(config.DATABASE_URL);
    apps.push(worker);
    const api = await createApi(config);
    apps.push(api);
    await worker.ready;
    await api.listen({ port: config.PORT, host: config.HOST });
  } catch (error) {
    for (const signal of STOP_SIGNALS) process.removeListener(signal, stop);
    await Promise.allSettled(apps.map((app) => app.close()));
    await location.release();
    throw error;
  }
}

function queuesOf(settings: AppSettings): string {
  return settings.REDIS_URL
    ? `Redis ${withoutCredentials(settings.REDIS_URL)} (REDIS_URL)`
    : "BullMQ's PostgreSQL backend in the same database (no REDIS_URL)";
}

function mailOf(settings: AppSettings): string {
  return settings.SMTP_URL
    ? `SMTP ${withoutCredentials(settings.SMTP_URL)} (SMTP_URL)`
    : `the outbox folder ${settings.mailOutboxDir} (no SMTP_URL)`;
}

function showRebuild(progress: RebuildProgress, bar: Progress, print: Print): void {
  switch (progress.phase) {
    case 'read':
      bar.update(progress.events, progress.total);
      return;
    case 'catch-up':
      bar.stop();
      print(`replay: folding again ${count(progress.streams)} stream(s) written during the rebuild (round ${progress.round})`);
      return;
    case 'swap':
      bar.stop();
      return;
  }
}

function rebuildSummary(report: RebuildReport, seconds: number): string {
  const tables = Object.entries(report.rows).map(([table, rows]) => `${table} (${count(rows)} rows)`);
  const rate = report.events / Math.max(seconds, 0.001);
  return (
    `replay: ${report.swapped ? 'rebuilt' : 'built, and left unswapped (--dry-run),'} ${tables.join(' and ')} from ${count(report.events)} events ` +
    `in ${count(report.streams)} streams in ${seconds.toFixed(1)} s (${count(rate)} events/s); ` +
    `${count(report.caughtUp)} stream(s) written meanwhile folded again, ${count(report.caughtUpUnderLock)} under a ${Math.round(report.lockedMs)} ms lock; no job was enqueued`
  );
}

function describeDifference(d: ReadRowDifference): string {
  const key = Object.entries(d.key)
    .map(([column, value]) => `${column}=${String(value)}`)
    .join(' ');
  switch (d.in) {
    case 'live':
      return `${d.table} ${key}: in the live table, not in the log`;
    case 'rebuilt':
      return `${d.table} ${key}: in the log, missing from the live table`;
    case 'both':
      return `${d.table} ${key}: ${d.columns.join(', ')} differ`;
  }
}

function reportChains(report: ChainReport, print: Print): void {
  const first = report.breaks[0];
  if (!first) {
    print(`verify: ${count(report.events)} events in ${count(report.streams)} streams, every chain intact`);
    return;
  }
  for (const b of report.breaks.slice(0, LISTED))
    print(`verify: position ${b.position}, stream ${b.streamId}, version ${b.version}: ${b.reason}`);
  if (report.breaks.length > LISTED) print(`verify: … and ${report.breaks.length - LISTED} more broken stream(s)`);
  throw new CheckFailed(
    `hash chain broken at position ${first.position} in stream ${first.streamId} (version ${first.version}): ${first.reason}; ` +
      `${report.breaks.length} of ${count(report.streams)} streams broken, ${count(report.events)} events checked`,
  );
}

function anchorKey(settings: AppSettings): string {
  if (settings.CHAIN_ANCHOR_KEY === undefined) throw new ConfigError('CHAIN_ANCHOR_KEY', 'is required for verify --anchor and --against');
  return settings.CHAIN_ANCHOR_KEY;
}

async function readAnchorFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new AnchorRefused(`cannot read the anchor file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function reportAnchor(anchor: ChainAnchor, departures: AnchorDeparture[], print: Print): void {
  const first = departures[0];
  if (!first) {
    print(
      `verify --against: the log extends the anchor of ${anchor.createdAt}: ${count(anchor.heads.length)} stream heads as anchored, up to position ${anchor.lastPosition}`,
    );
    return;
  }
  for (const d of departures.slice(0, LISTED)) print(`verify --against: stream ${d.streamId}: ${d.reason}`);
  if (departures.length > LISTED) print(`verify --against: … and ${departures.length - LISTED} more stream(s)`);
  throw new CheckFailed(
    `the log no longer extends the anchor of ${anchor.createdAt}: stream ${first.streamId}: ${first.reason}; ` +
      `${departures.length} of ${count(anchor.heads.length)} anchored streams differ`,
  );
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
