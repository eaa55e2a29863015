// The package root (the directory with package.json and binding.gyp), found by walking up
// from this module: the same answer from the source tree, from dist/ and from the
// bundled programs in dist/bundle/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('package root (binding.gyp) not found');
    dir = up;
  }
}
