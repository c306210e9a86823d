import 'reflect-metadata';
import { ClientNotFound } from '@app/auth';
import { ConfigError } from '@app/config';
import { EmbeddedPostgresError } from '@app/database';
import { RebuildRefused } from '@app/projections';
import { RoleExists } from '@app/roles';
import { AnchorRefused } from './chain-anchor.js';
import { CheckFailed, run, USAGE, UsageError } from './cli.js';

// A progress bar goes to stderr when it is a terminal; stdout keeps the summary lines for pipes.
run(process.argv.slice(2), process.env, console.log, process.stderr.isTTY ? process.stderr : undefined).catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(`configuration: ${error.message}`);
  else if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
  else if (
    error instanceof RoleExists ||
    error instanceof ClientNotFound ||
    error instanceof AnchorRefused ||
    error instanceof CheckFailed ||
    error instanceof RebuildRefused ||
    error instanceof EmbeddedPostgresError
  )
    console.error(error.message);
  else console.error(error);
  process.exit(1);
});
