import { RebuildRefused, READ_TABLES, type Client, type ReadTable, type Rebuild, type TablePlan } from './read-tables.context.js';

/** The shadow tables `<table>_rebuild`: what they copy of the live tables, and their making and dropping. */

export const shadowOf = (table: string): string => `${table}_rebuild`;
/** A name for an index or constraint while it lives on a shadow table (Postgres names stop at 63 bytes). */
const temporaryName = (name: string): string => `${name.slice(0, 63 - '_rebuild'.length)}_rebuild`;

/** What a live table is made of, from the catalogue: its columns, key, indexes and key constraints. */
export async function plan(on: Client, table: ReadTable): Promise<TablePlan> {
  const shadow = shadowOf(table.name);
  const { rows: columns } = await on.query<{ name: string; key: boolean }>(
    `SELECT a.attname AS name, coalesce(a.attnum = ANY(i.indkey), false) AS key
     FROM pg_attribute a LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
     WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [table.name],
  );
  const { rows: indexes } = await on.query<{ name: string; definition: string; constraint: string | null }>(
    `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition, c.contype::text AS constraint
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x')
     WHERE x.indrelid = $1::regclass ORDER BY i.relname`,
    [table.name],
  );
  return {
    ...table,
    shadow,
    columns: columns.map((c) => c.name),
    key: columns.filter((c) => c.key).map((c) => c.name),
    indexes: indexes.map((index) => {
      const match = /^CREATE (UNIQUE )?INDEX \S+ ON (?:ONLY )?\S+ (USING .+)$/s.exec(index.definition);
      if (!match || index.constraint === 'x')
        throw new RebuildRefused(`cannot rebuild index ${index.name} of ${table.name}: ${index.definition}`);
      const temporary = temporaryName(index.name);
      return {
        name: index.name,
        temporary,
        create: `CREATE ${match[1] ?? ''}INDEX ${temporary} ON ${shadow} ${match[2]}`,
        constraint: index.constraint === 'p' ? 'PRIMARY KEY' : index.constraint === 'u' ? 'UNIQUE' : null,
      };
    }),
  };
}

/** Foreign keys and triggers tie to a table's identity; a swap would silently drop them. */
export async function refuseWhatASwapWouldLose(on: Client): Promise<void> {
  const names = READ_TABLES.map((t) => t.name);
  const { rows } = await on.query<{ what: string }>(
    `SELECT format('foreign key %s on %s', conname, conrelid::regclass) AS what FROM pg_constraint
     WHERE contype = 'f' AND (conrelid = ANY($1::regclass[]) OR confrelid = ANY($1::regclass[]))
     UNION ALL
     SELECT format('trigger %s on %s', tgname, tgrelid::regclass) FROM pg_trigger
     WHERE NOT tgisinternal AND tgrelid = ANY($1::regclass[])`,
    [names],
  );
  if (rows.length > 0) {
    throw new RebuildRefused(`replay swaps whole tables and would lose: ${rows.map((r) => r.what).join(', ')}`);
  }
}

/** The live tables' indexes and key constraints, on the shadows, under temporary names. */
export async function createIndexes(r: Rebuild): Promise<void> {
  // Two sessions build them, a core each: the reader is idle once the first fill is read.
  const work = r.tables.flatMap((t) => t.indexes.map((index) => ({ t, index })));
  const builders = [r.writer, r.reader].map(async (session) => {
    for (let next = work.shift(); next; next = work.shift()) await session.query(next.index.create);
  });
  await Promise.all(builders);
  for (const t of r.tables) {
    for (const index of t.indexes) {
      if (index.constraint) {
        await r.writer.query(
          `ALTER TABLE ${t.shadow} ADD CONSTRAINT ${index.temporary} ${index.constraint} USING INDEX ${index.temporary}`,
        );
      }
    }
  }
}

/** Rows of the rebuilt tables: counted once the lock is gone (the new live tables, or the unswapped shadows). */
export async function countRows(r: Rebuild, which: 'name' | 'shadow'): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for (const t of r.tables) {
    const { rows: counted } = await r.writer.query<{ n: string }>(`SELECT count(*) AS n FROM ${t[which]}`);
    rows[t.name] = Number(counted[0]?.n ?? 0);
  }
  return rows;
}

export async function dropShadows(r: Rebuild): Promise<void> {
  await r.writer.query(`DROP TABLE IF EXISTS ${r.tables.map((t) => t.shadow).join(', ')}`);
}
