/**
 * The Postgres role the API and the worker run their sessions as (a migration creates it): it can
 * append to and read `events` but not change them. The CLI and migrations keep the owner.
 */
export const RUNTIME_ROLE = 'contacts_runtime';
