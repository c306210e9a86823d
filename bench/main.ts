/**
 * Load benchmarks: `npm run bench -- create | read | users | signin | update | invite | expiry | start | replay | console`.
 * Each makes its own database on DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432),
 * starts what it measures as child processes on 127.0.0.1, prints a table and, last, one JSON line
 * of the figures; it drops the database and stops the children however it ends.
 */
import 'reflect-metadata';
import { consoleBench } from './console.js';
import { createBench } from './create.js';
import { expiryBench } from './expiry.js';
import { inviteBench } from './invite.js';
import { readBench } from './read.js';
import { replayBench } from './replay.js';
import { signinBench } from './signin.js';
import { startBench } from './start.js';
import { cleanUpAll, log } from './support.js';
import { updateBench } from './update.js';
import { usersBench } from './users.js';

const BENCHES: Record<string, () => Promise<Record<string, unknown>>> = {
  create: createBench,
  read: readBench,
  users: usersBench,
  signin: signinBench,
  update: updateBench,
  invite: inviteBench,
  expiry: expiryBench,
  start: startBench,
  replay: replayBench,
  console: consoleBench,
};

const USAGE = `usage: npm run bench -- <${Object.keys(BENCHES).join('|')}>`;

async function main(): Promise<void> {
  const name = process.argv[2];
  const bench = name ? BENCHES[name] : undefined;
  if (!name || !bench) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const figures = await bench();
  console.log(JSON.stringify({ bench: name, at: new Date().toISOString(), ...figures }));
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping children and dropping the bench database`);
    void cleanUpAll().finally(() => process.exit(130));
  });
}

main().catch(async (error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  await cleanUpAll();
  process.exit(1);
});
