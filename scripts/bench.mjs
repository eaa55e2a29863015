// `npm run bench -- NAME [ARGS...]` runs dist/bench/NAME.js on the host (building first
// when it is missing). An IPVS benchmark boots UML itself through runInUml
// (test/harness/uml.ts), pinned to one CPU, because the host kernel has no IPVS; the
// iptables one runs on the host in network namespaces. Without NAME it lists them.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, 'dist/bench');
const [name, ...rest] = process.argv.slice(2);

function available() {
  if (!existsSync(benchDir)) return [];
  return readdirSync(benchDir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .sort();
}

function build() {
  // The benches start bin/ programs: the bundles are built too (npm run build).
  console.error('bench: building (npm run build)');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench: build failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

if (!name || name.startsWith('-')) {
  const names = available();
  console.error('usage: npm run bench -- NAME [ARGS...]');
  console.error(
    names.length ? `benchmarks: ${names.join(', ')}` : 'no benchmarks built in dist/bench',
  );
  process.exit(2);
}
if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
  console.error(`bench: bad benchmark name ${JSON.stringify(name)}`);
  process.exit(2);
}
const script = join(benchDir, `${name}.js`);
if (!existsSync(script)) build();
if (!existsSync(script)) {
  console.error(
    `bench: no benchmark ${name} (dist/bench/${name}.js); have: ${available().join(', ') || 'none'}`,
  );
  process.exit(2);
}
const r = spawnSync(process.execPath, [script, ...rest], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
