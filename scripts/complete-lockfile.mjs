#!/usr/bin/env node
// The npm registry this project is built against serves only some platforms' builds of packages
// that ship native binaries as optional dependencies (@swc/core-darwin-arm64 answers 404). `npm
// install` then leaves those entries out of package-lock.json, and `npm ci` refuses the lock as out
// of sync. This adds each missing optional platform package back as a lock entry with its `os`
// and `cpu`: npm skips it on every other platform, and fetches it where it belongs.
// package.json runs it after a plain `npm install`; run it by hand after `npm install <pkg>`
// (npm skips the root postinstall then). `--check` only reports, for CI.
import { readFileSync, writeFileSync } from 'node:fs';

const check = process.argv.includes('--check');

const OS = ['darwin', 'linux', 'win32', 'freebsd', 'android', 'openharmony', 'sunos', 'aix', 'netbsd', 'openbsd'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'wasm32'];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p)) ?? (parts.includes('arm') ? 'arm' : undefined);
  if (!os || !cpu) return null;
  const libc = parts.some((p) => p.startsWith('musl'))
    ? 'musl'
    : os === 'linux' && parts.some((p) => p.startsWith('gnu'))
      ? 'glibc'
      : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
}

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
let added = 0;
for (const [where, entry] of Object.entries(lock.packages ?? {})) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = where === '' ? '' : `${where}/`;
    const key = `${base}node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (lock.packages[key] || lock.packages[hoisted]) continue;
    const platform = platformOf(name);
    const version = String(spec).replace(/^[\^~=v]+/, '');
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) continue;
    lock.packages[hoisted] = { version, optional: true, ...platform };
    added++;
  }
}
if (added > 0 && check) {
  console.error(`complete-lockfile: package-lock.json lacks ${added} optional platform entries; run node scripts/complete-lockfile.mjs`);
  process.exit(1);
}
if (added > 0) {
  lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`complete-lockfile: added ${added} optional platform entries`);
}
