import 'reflect-metadata';
import { ConfigError } from '@app/config';
import { RoleExists } from '@app/roles';
import { run, USAGE, UsageError } from './cli.js';

run(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(`configuration: ${error.message}`);
  else if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
  else if (error instanceof RoleExists) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
