import type pg from 'pg';

export type Client = pg.PoolClient;

/** A live read table: its name and the column naming the contact a row belongs to. */
export interface ReadTable {
  name: string;
  contactColumn: string;
}

export const READ_TABLES: readonly ReadTable[] = [
  { name: 'contacts', contactColumn: 'id' },
  { name: 'email_reservations', contactColumn: 'contact_id' },
];

export type RebuildProgress =
  /** the main read: events folded so far of the events in the snapshot */
  | { phase: 'read'; events: number; total: number }
  /** an unlocked catch-up round is about to fold the streams written since the previous snapshot */
  | { phase: 'catch-up'; round: number; streams: number }
  /** the read tables are locked and the last catch-up is done; the swap comes next */
  | { phase: 'swap'; streams: number; attempt: number };

export interface RebuildOptions {
  /** events read per query */
  batchSize?: number;
  /** compare the rebuilt tables with the live ones and report every row that differs */
  compare?: boolean;
  /** build (and compare) but leave the live tables as they are */
  dryRun?: boolean;
  /** catch-up rounds run without a lock until at most this many streams are left to fold under it (default 500) */
  maxStreamsUnderLock?: number;
  onProgress?: (progress: RebuildProgress) => void | Promise<void>;
}

export class RebuildRefused extends Error {}

export interface IndexPlan {
  name: string;
  temporary: string;
  create: string;
  /** the key constraint it backs on the live table */
  constraint: 'PRIMARY KEY' | 'UNIQUE' | null;
}

export interface TablePlan extends ReadTable {
  shadow: string;
  columns: string[];
  key: string[];
  indexes: IndexPlan[];
}

/** One rebuild: its two sessions (the reader holds the snapshots, the writer fills the shadows) and what it rebuilds. */
export interface Rebuild {
  reader: Client;
  writer: Client;
  options: RebuildOptions;
  /** events read per query */
  batchSize: number;
  tables: TablePlan[];
}
