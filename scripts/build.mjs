#!/usr/bin/env node
// Builds apps/, libs/ and bench/ with swc, but only when the sources changed, and never under a
// running process. Each build goes to .build/<hash of the sources>/ and `dist` is a symlink that is
// swapped to it in one rename: `npm run cli -- …` while `npm start` runs, or two CLI commands at
// once, find either the same build (nothing to do) or a complete new one beside the old.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const builds = join(root, '.build');
const dist = join(root, 'dist');
// package.json's build script passes the swc command line: `swc <sources…> -d dist <options…>`.
const [command, ...swcArgs] = process.argv.slice(2);
const out = swcArgs.indexOf('-d');
if (command !== 'swc' || out < 1 || swcArgs[out + 1] !== 'dist') {
  throw new Error('usage: node scripts/build.mjs swc <sources…> -d dist [swc options…]');
}
const SOURCES = swcArgs.slice(0, out);
const OPTIONS = swcArgs.slice(out + 2);
const INPUTS = ['.swcrc', 'package-lock.json'];
/** Older builds kept for processes that still run from them. */
const KEEP = 4;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

function sourceHash() {
  const hash = createHash('sha256');
  const paths = [...SOURCES.flatMap((dir) => [...files(join(root, dir))]), ...INPUTS.map((f) => join(root, f))];
  for (const path of paths.sort()) {
    hash.update(relative(root, path)).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function currentTarget() {
  try {
    return lstatSync(dist).isSymbolicLink() ? readlinkSync(dist) : null;
  } catch {
    return null;
  }
}

const hash = sourceHash();
const target = join(builds, hash);
const wanted = relative(root, target);

if (currentTarget() === wanted && existsSync(join(target, '.complete'))) process.exit(0);

if (!existsSync(join(target, '.complete'))) {
  const temporary = `${target}.tmp-${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  execFileSync(join(root, 'node_modules/.bin/swc'), [...SOURCES, '-d', temporary, ...OPTIONS], { cwd: root, stdio: 'inherit' });
  writeFileSync(join(temporary, '.complete'), '');
  try {
    renameSync(temporary, target);
  } catch {
    // Another build of the same sources finished first: use that one.
    rmSync(temporary, { recursive: true, force: true });
  }
}

// Swap the link in one rename. A `dist` left as a plain directory by an older build is moved aside.
if (existsSync(dist) && !lstatSync(dist).isSymbolicLink()) renameSync(dist, `${builds}/legacy-${process.pid}`);
const link = `${dist}.tmp-${process.pid}`;
rmSync(link, { force: true });
symlinkSync(relative(root, target), link);
renameSync(link, dist);

// Forget the oldest builds; the newest few stay for processes started from them.
const old = readdirSync(builds)
  .filter((name) => name !== hash && (!name.includes('.tmp-') || statSync(join(builds, name)).mtimeMs < Date.now() - 3_600_000))
  .map((name) => ({ name, at: statSync(join(builds, name)).mtimeMs }))
  .sort((a, b) => b.at - a.at)
  .slice(KEEP);
for (const { name } of old) rmSync(join(builds, name), { recursive: true, force: true });
