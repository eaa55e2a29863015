// `npm run demo`: kube-ipvs on a real IPVS kernel, end to end. The host kernel has no
// IPVS, so this boots User-Mode Linux (Debian's user-mode-linux, installed by
// scripts/system-deps.sh) and, inside it, runs `kube-ipvs run` on a copy of examples/
// against a node namespace with echo pods and a client: traffic, a config edit and an
// EndpointSlice edit, each shown reaching the kernel (test/harness/demo/). Every failure
// is one message and exit status 1, never a stack trace.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const t0 = Date.now();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function step(what, cmd, args) {
  console.log(`demo: ${what}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`demo: ${what} failed (exit ${r.status ?? r.signal ?? r.error?.message})`);
    process.exit(1);
  }
}

step('system packages (scripts/system-deps.sh)', 'bash', [join(root, 'scripts/system-deps.sh')]);
if (!existsSync(join(root, 'build/Release/netlink.node'))) {
  step('native addon (node-gyp rebuild)', 'npx', ['--no-install', 'node-gyp', 'rebuild']);
}
// Always: incremental, a few seconds when nothing changed, and never a stale dist/ (the
// demo starts bin/ programs, which run the bundles).
step('build (npm run build)', 'npm', ['run', '--silent', 'build']);

try {
  const host = await import(pathToFileURL(join(root, 'dist/test/harness/demo/host.js')).href);
  process.exitCode = await host.main(t0);
} catch (err) {
  console.error(`demo: internal error: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
