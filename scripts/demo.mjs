// `npm run demo`: a preview of kube-ipvs on a real IPVS kernel. The host kernel has no
// IPVS, so this boots User-Mode Linux (Debian's user-mode-linux, installed by
// scripts/system-deps.sh), builds a node namespace with three echo backends and a
// client inside it, programs a Service through the project's netlink bindings
// (IpvsClient), shows `ipvsadm -Ln` and sends traffic through it. It does not run the
// controller against a Kubernetes API yet: it shows the kernel layer only.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function step(what, cmd, args) {
  console.log(`demo: ${what}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`demo: ${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

step('system packages (scripts/system-deps.sh)', 'bash', [join(root, 'scripts/system-deps.sh')]);
const inner = join(root, 'dist/test/harness/demo-inner.js');
const umlModule = join(root, 'dist/test/harness/uml.js');
if (!existsSync(inner) || !existsSync(umlModule)) {
  step('build (npx tsc -p tsconfig.json)', 'npx', ['--no-install', 'tsc', '-p', 'tsconfig.json']);
}
if (!existsSync(join(root, 'build/Release/netlink.node'))) {
  step('native addon (node-gyp rebuild)', 'npx', ['--no-install', 'node-gyp', 'rebuild']);
}

const { runInUml, UmlError } = await import(pathToFileURL(umlModule).href);
console.log('demo: PREVIEW — kernel layer only (IPVS bindings + ipvsadm), no Kubernetes API');
console.log('demo: booting User-Mode Linux (pinned to CPU 0) ...\n');
try {
  const result = await runInUml({
    command: process.execPath,
    args: [inner],
    cwd: root,
    timeoutMs: 180_000,
    check: false,
    onOutput: (text) => process.stdout.write(text),
  });
  console.log(`\ndemo: UML ran for ${(result.durationMs / 1000).toFixed(1)} s`);
  if (result.exitCode !== 0) {
    console.error(`demo: the demo inside UML failed (exit ${result.exitCode})`);
    process.exit(1);
  }
} catch (err) {
  if (err instanceof UmlError) {
    console.error(`demo: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
