import { parseArgs } from 'node:util';
import { ClientStore, isScope, SCOPES } from '@app/auth';
import type { ApprovalMethod } from '@app/contacts';
import { loadConfig, type AppConfig } from '@app/config';
import { Database, migrate } from '@app/database';
import { RoleCatalogue, roleProblems } from '@app/roles';
import { createApi } from '../../api/src/bootstrap.js';
import { createWorker } from '../../worker/src/bootstrap.js';

export const USAGE = `usage: npm run cli -- <command>
  migrate                                   create the database if missing and apply migrations
  clients:create --name N --scopes a,b      register an OAuth2 client; prints {"client_id","client_secret","scopes"}
  roles:create --reference R --title T --approval none|email|admin
                                            add an access role to the catalogue
  start                                     migrate, then run the API and the worker in this process
scopes: ${SCOPES.join(', ')}`;

export class UsageError extends Error {}

const COMMANDS = ['migrate', 'clients:create', 'roles:create', 'start'];

async function withDatabase<T>(config: AppConfig, work: (db: Database) => Promise<T>): Promise<T> {
  const db = new Database({ url: config.DATABASE_URL, applicationName: 'contacts-cli', max: 2 });
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

function parseOptions(args: string[]): { values: Record<string, string | undefined> } {
  try {
    return parseArgs({
      args,
      options: { name: { type: 'string' }, scopes: { type: 'string' }, reference: { type: 'string' }, title: { type: 'string' }, approval: { type: 'string' } },
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Where a command's output goes: stdout for the CLI, a list in tests. */
export type Print = (line: string) => void;

/** Runs one operator command; throws UsageError, ConfigError or RoleExists for the caller to report. */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env, print: Print = console.log): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseOptions(rest);
  if (command === undefined || command === 'help' || command === '--help') {
    print(USAGE);
    return;
  }
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command "${command}"`);
  const config = loadConfig(env);
  switch (command) {
    case 'migrate': {
      const applied = await migrate(config.DATABASE_URL);
      print(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'schema is up to date');
      return;
    }
    case 'clients:create': {
      const scopes = (values.scopes ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      if (!values.name || scopes.length === 0) throw new UsageError('clients:create needs --name and --scopes');
      const unknown = scopes.filter((s) => !isScope(s));
      if (unknown.length > 0) throw new UsageError(`unknown scope(s): ${unknown.join(', ')}; known: ${SCOPES.join(', ')}`);
      const client = await withDatabase(config, (db) => new ClientStore(db).create(values.name!, scopes.filter(isScope)));
      print(JSON.stringify(client));
      return;
    }
    case 'roles:create': {
      if (!values.reference || !values.title) throw new UsageError('roles:create needs --reference and --title');
      const wanted = { reference: values.reference, title: values.title, approvalMethod: (values.approval ?? 'none') as ApprovalMethod };
      const problems = roleProblems(wanted);
      if (problems.length > 0) throw new UsageError(problems.join('; '));
      const role = await withDatabase(config, (db) => new RoleCatalogue(db).create(wanted));
      print(JSON.stringify(role));
      return;
    }
    case 'start': {
      await migrate(config.DATABASE_URL);
      const api = await createApi(config);
      await createWorker(config);
      await api.listen({ port: config.PORT, host: config.HOST });
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}


