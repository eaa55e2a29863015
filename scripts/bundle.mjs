// The two programs as bundles (dist/bundle/kube-ipvs.js, lvsadm.js, with shared chunks):
// one file read instead of about a thousand modules (@kubernetes/client-node's generated
// code alone is 900), which is most of the start-up time and tens of MB of resident
// memory (inside User-Mode Linux, importing the API source took 1.2 s and 100 MiB
// unbundled, 0.24 s and 59 MiB bundled). Runs after tsc, on dist/; bin/ loads the result.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    'kube-ipvs': 'dist/lib/cli/kube-ipvs.js',
    lvsadm: 'dist/lib/cli/lvsadm.js',
  },
  outdir,
  bundle: true,
  // The API server client is imported only when there is one (not for --manifests, plan
  // on a directory or lvsadm): it stays a chunk of its own, read when imported.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __kubeIpvsRequire } from 'node:module'; const require = __kubeIpvsRequire(import.meta.url);",
  },
  // whatwg-url (under node-fetch) asks for Node's punycode module, deprecated since Node 21
  // with a warning on stderr for code outside node_modules, as a bundle is; the npm package
  // of the same name and API is bundled instead.
  alias: { punycode: 'punycode/' },
  legalComments: 'none',
  logLevel: 'warning',
});
