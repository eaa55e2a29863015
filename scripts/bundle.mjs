// The two programs as bundles (dist/bundle/kube-ipvs.js, lvsadm.js, with shared chunks):
// one file read instead of about a thousand modules (@kubernetes/client-node's generated
// code alone is 900), which is most of the start-up time and tens of MB of resident
// memory (inside User-Mode Linux, importing the API source took 1.2 s and 100 MiB
// unbundled, 0.24 s and 59 MiB bundled). Runs after tsc, on dist/; bin/ loads the result.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  // Strings, templates and identifiers escaped by esbuild; comments and regular
  // expressions by asciiOnly below.
  charset: 'ascii',
  logLevel: 'warning',
});

/**
 * V8 keeps a module's source for its whole life, as one-byte (Latin-1) text only when every
 * character fits: a single arrow in a comment made the two largest bundles two-byte, 8 MB
 * of the daemon's heap instead of 4. What esbuild leaves non-ASCII (comments, regular
 * expressions) is written as a \u escape, which means the same character in both.
 */
function asciiOnly(file) {
  const text = readFileSync(file, 'utf8');
  // After a backslash an escape would change meaning (`\μ` would become `\\u03bc`).
  const escaped = /\\[\u0080-\uffff]/.exec(text);
  if (escaped) throw new Error(`${file}: cannot escape ${JSON.stringify(escaped[0])}`);
  const out = text.replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  if (out !== text) writeFileSync(file, out);
}

for (const name of readdirSync(outdir)) if (name.endsWith('.js')) asciiOnly(join(outdir, name));
