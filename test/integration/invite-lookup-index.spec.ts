import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** The statement the invite page finds its contact with (libs: contact by invite token hash), unchanged. */
const INVITE_LOOKUP = `SELECT id FROM contacts WHERE state #>> '{invite,tokenHash}' = $1`;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const nodesOf = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];

describe('the invite lookup', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('invite-index');
    // Enough contacts that a scan costs more than the index: half with a pending invite, half without.
    await database.db.query(`
      INSERT INTO contacts (id, type, email, version, created, view, state)
      SELECT gen_random_uuid(), 'user', 'u' || n || '@example.com', 1, now(), '{}'::json,
             CASE WHEN n % 2 = 0 THEN jsonb_build_object('invite', jsonb_build_object('tokenHash', md5(n::text) || md5(n::text), 'status', 'sent'))
                  ELSE '{}'::jsonb END
      FROM generate_series(1, 5000) n`);
    await database.db.query('ANALYZE contacts');
  });
  afterAll(() => database.drop());

  const planOf = async (sql: string, values: unknown[] = []): Promise<PlanNode[]> => {
    const { rows } = await database.db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql}`, values);
    return nodesOf(rows[0]!['QUERY PLAN'][0].Plan);
  };

  it('uses the expression index for a token hash, never a sequential scan', async () => {
    const hash = 'f'.repeat(64);

    const sut = await planOf(INVITE_LOOKUP.replace('$1', `'${hash}'`));

    expect(sut.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    expect(sut.map((n) => n['Index Name'])).toContain('contacts_invite_token_hash');
  });

  it('uses it in the generic plan of the prepared statement the service sends', async () => {
    const client = await database.db.pool.connect();
    try {
      await client.query('SET plan_cache_mode = force_generic_plan');
      await client.query(`PREPARE invite_lookup(text) AS ${INVITE_LOOKUP}`);
      const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
        `EXPLAIN (FORMAT JSON) EXECUTE invite_lookup('${'e'.repeat(64)}')`,
      );
      const sut = nodesOf(rows[0]!['QUERY PLAN'][0].Plan);

      expect(sut.map((n) => n['Index Name'])).toContain('contacts_invite_token_hash');
    } finally {
      await client.query('DEALLOCATE ALL').catch(() => undefined);
      await client.query('RESET plan_cache_mode').catch(() => undefined);
      client.release();
    }
  });

  it('finds the contact that holds the hash, and none for an unknown one', async () => {
    const hash = (await database.db.query<{ h: string }>(`SELECT md5('42') || md5('42') AS h`)).rows[0]!.h;

    const found = await database.db.query<{ id: string }>(INVITE_LOOKUP, [hash]);
    const unknown = await database.db.query<{ id: string }>(INVITE_LOOKUP, ['0'.repeat(64)]);

    expect(found.rows).toHaveLength(1);
    expect(unknown.rows).toEqual([]);
  });
});
