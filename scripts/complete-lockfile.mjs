// Completes package-lock.json with entries for optional platform packages (darwin, win32, musl… builds of
// DuckDB, Biome, esbuild) that a registry serving only some platforms leaves out. Without them `npm ci`
// refuses the lock as out of sync. The entries carry os/cpu/libc, so npm skips them on other platforms.
// Run after any dependency change: `node scripts/complete-lockfile.mjs`; `npm test` checks it was.
import fs from 'node:fs';
const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const at = `node_modules/${name}`;
    if (lock.packages[at]) continue;
    const os = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openbsd', 'sunos', 'aix'].find((o) => name.includes(o));
    const cpu = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64'].find((c) => name.includes(`-${c}`));
    const stub = { version: version.replace(/^[\^~]/, ''), optional: true };
    if (os) stub.os = [os];
    if (cpu) stub.cpu = [cpu];
    if (name.includes('musl')) stub.libc = ['musl'];
    lock.packages[at] = stub;
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} entries`);
