// `kube-ipvs version`: the package version, and the runtime it runs on.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../../bindings/package-root.js';
import { parseFlags, type Command } from './io.js';

async function packageVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(join(packageRoot(), 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const versionCommand: Command = {
  name: 'version',
  summary: 'print the version',
  usage: 'kube-ipvs version',
  async run(args, io) {
    parseFlags(args, {});
    io.stdout(`kube-ipvs ${await packageVersion()} (node ${process.version})\n`);
    return 0;
  },
};
