import pg from 'pg';
import type { Client, TablePlan } from './read-tables.context.js';

/** A row the live and the rebuilt table disagree on. */
export interface ReadRowDifference {
  table: string;
  /** the row's primary key, e.g. `{ id }` or `{ kind, email }` */
  key: Record<string, unknown>;
  /** `live`: only the live table has the row; `rebuilt`: only the rebuilt one; `both`: columns differ */
  in: 'live' | 'rebuilt' | 'both';
  columns: string[];
}

/**
 * The rows the live table and its shadow disagree on, column by column as text (json compares as
 * the exact text clients get). Without `only`, the whole tables; with it, the rows with those keys
 * and the rows of those contacts.
 */
export async function compare(
  on: Client,
  t: TablePlan,
  only?: { keys: Record<string, unknown>[]; contacts: string[] },
): Promise<ReadRowDifference[]> {
  const q = pg.escapeIdentifier;
  const joined = t.key.map((k) => `l.${q(k)} = r.${q(k)}`).join(' AND ');
  const differs = t.columns.map((c) => `CASE WHEN l.${q(c)}::text IS DISTINCT FROM r.${q(c)}::text THEN ${pg.escapeLiteral(c)} END`);
  const keyOf = (alias: string): string => `json_build_object(${t.key.map((k) => `${pg.escapeLiteral(k)}, ${alias}.${q(k)}`).join(', ')})`;
  const firstKey = q(t.key[0] ?? 'id');
  let from = `${t.name} l FULL JOIN ${t.shadow} r ON ${joined}`;
  let values: unknown[] = [];
  if (only) {
    const keyColumns = t.key.map(q).join(', ');
    from = `(SELECT ${keyColumns} FROM jsonb_populate_recordset(NULL::${t.name}, $1::jsonb)
             UNION SELECT ${keyColumns} FROM ${t.name} WHERE ${q(t.contactColumn)} = ANY($2::uuid[])
             UNION SELECT ${keyColumns} FROM ${t.shadow} WHERE ${q(t.contactColumn)} = ANY($2::uuid[])) k
            LEFT JOIN ${t.name} l ON ${t.key.map((k) => `l.${q(k)} = k.${q(k)}`).join(' AND ')}
            LEFT JOIN ${t.shadow} r ON ${t.key.map((k) => `r.${q(k)} = k.${q(k)}`).join(' AND ')}`;
    values = [JSON.stringify(only.keys), only.contacts];
  }
  const { rows } = await on.query<{ key: Record<string, unknown>; live: boolean; rebuilt: boolean; columns: string[] }>(
    `SELECT key, live, rebuilt, columns FROM (
       SELECT CASE WHEN l.${firstKey} IS NULL THEN ${keyOf('r')} ELSE ${keyOf('l')} END AS key,
              l.${firstKey} IS NOT NULL AS live, r.${firstKey} IS NOT NULL AS rebuilt,
              array_remove(ARRAY[${differs.join(', ')}], NULL) AS columns
       FROM ${from}
     ) d
     WHERE (live OR rebuilt) AND (NOT live OR NOT rebuilt OR cardinality(columns) > 0)
     ORDER BY key::text`,
    values,
  );
  return rows.map((row) => ({
    table: t.name,
    key: row.key,
    in: row.live && row.rebuilt ? 'both' : row.live ? 'live' : 'rebuilt',
    columns: row.live && row.rebuilt ? row.columns : [],
  }));
}
