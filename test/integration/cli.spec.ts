import { ClientStore } from '@app/auth';
import { RoleCatalogue, RoleExists } from '@app/roles';
import { run, UsageError } from '../../apps/cli/src/cli.js';
import { BASE_DATABASE_URL, createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe('npm run cli', () => {
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    database = await createTestDatabase('cli');
    env = { DATABASE_URL: database.url };
  });
  afterAll(() => database.drop());

  /** Runs a command as the CLI would and returns what it printed. */
  async function sut(...argv: string[]): Promise<string[]> {
    const printed: string[] = [];
    await run(argv, env, (line) => printed.push(line));
    return printed;
  }

  it('clients:create prints one JSON line with the id, the secret and the scopes, and the secret works', async () => {
    const printed = await sut('clients:create', '--name', 'shop', '--scopes', 'contacts,roles');

    expect(printed).toHaveLength(1);
    const client = JSON.parse(printed[0] ?? '') as Record<string, unknown>;
    expect(Object.keys(client)).toEqual(['client_id', 'client_secret', 'scopes']);
    expect(client.scopes).toEqual(['contacts', 'roles']);
    const found = await new ClientStore(database.db).authenticate(String(client.client_id), String(client.client_secret));
    expect(found).toMatchObject({ name: 'shop', scopes: ['contacts', 'roles'] });
  });

  it.each([
    [['clients:create', '--name', 'shop'], /needs --name and --scopes/],
    [['clients:create', '--name', 'shop', '--scopes', 'contacts,admin'], /unknown scope\(s\): admin/],
    [['roles:create', '--reference', 'bad ref <b>', '--title', 'Bad'], /reference may hold/],
    [['roles:create', '--reference', 'ok', '--title', 'Ok', '--approval', 'maybe'], /approval method must be none, email or admin/],
    [['clients:create', '--bogus'], /Unknown option '--bogus'/],
    [['nonsense'], /unknown command "nonsense"/],
    [['replay', '--force'], /Unknown option '--force'/],
    [['verify', '--dry-run'], /--verify and --dry-run are options of replay/],
  ])('refuses %j with a usage error', async (argv, message) => {
    await expect(sut(...argv)).rejects.toThrow(UsageError);
    await expect(sut(...argv)).rejects.toThrow(message);
  });

  it('roles:create adds a role to the catalogue, once', async () => {
    const printed = await sut('roles:create', '--reference', 'trade', '--title', 'Trade customer', '--approval', 'admin');

    expect(printed.map((line) => JSON.parse(line) as unknown)).toEqual([
      { reference: 'trade', title: 'Trade customer', approvalMethod: 'admin' },
    ]);
    expect(await new RoleCatalogue(database.db).list()).toContainEqual({
      reference: 'trade',
      title: 'Trade customer',
      approvalMethod: 'admin',
    });
    await expect(sut('roles:create', '--reference', 'trade', '--title', 'Again')).rejects.toThrow(RoleExists);
  });

  it('migrate creates a database that does not exist yet and says what it applied', async () => {
    const url = new URL(BASE_DATABASE_URL);
    url.pathname = `/${database.name}_fresh`;
    try {
      const first = await run(['migrate'], { DATABASE_URL: url.toString() }, () => undefined).then(() => 'ok');
      const printed: string[] = [];
      await run(['migrate'], { DATABASE_URL: url.toString() }, (line) => printed.push(line));

      expect(first).toBe('ok');
      expect(printed).toEqual(['schema is up to date']);
    } finally {
      await database.db.query(`DROP DATABASE IF EXISTS "${database.name}_fresh" WITH (FORCE)`);
    }
  });

  it('prints its usage for help', async () => {
    const usage = (await sut('help')).join('\n');
    expect(usage).toMatch(/clients:create --name N --scopes a,b/);
    expect(usage).toMatch(/^ {2}replay \[--verify\] \[--dry-run\] /m);
    expect(usage).toMatch(/^ {2}verify /m);
  });
});
