// Shared by the bin/ wrappers: import the compiled entry point from dist/ and say what to run
// when it cannot be loaded, in one line instead of node's ERR_MODULE_NOT_FOUND trace.
// Plain JavaScript, because it must work before anything is compiled.
import { existsSync } from 'node:fs';

function fail(program, message) {
  process.stderr.write(`${program}: ${message}\n`);
  process.exitCode = 1;
}

/**
 * @param {string} program name in messages
 * @param {string} entry path of the compiled module, relative to bin/
 * @param {(module: { main?: (argv: string[]) => Promise<void> }) => unknown} start what to call once it is loaded
 */
export async function launch(program, entry, start) {
  const url = new URL(entry, import.meta.url);
  if (!existsSync(url)) {
    fail(program, 'dist/ is missing: run npm run build (npm ci builds the native addon)');
    return;
  }
  let module;
  try {
    module = await import(url.href);
  } catch (e) {
    const first = String(e instanceof Error ? e.message : e).split('\n')[0];
    if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
      // A dependency (node_modules) or a file of an older build is missing.
      fail(program, `cannot load the program: ${first}: run npm ci && npm run build`);
    } else {
      fail(program, `internal error: ${first}`);
      process.exitCode = 70;
    }
    return;
  }
  await start(module);
}
