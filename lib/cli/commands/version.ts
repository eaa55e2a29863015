// `kube-ipvs version`: the package version, and the runtime it runs on.
import { readFile } from 'node:fs/promises';
import { parseFlags, type Command } from './io.js';

async function packageVersion(): Promise<string> {
  // From dist/lib/cli/commands/ to the package root.
  const url = new URL('../../../../package.json', import.meta.url);
  try {
    const pkg = JSON.parse(await readFile(url, 'utf8')) as { version?: unknown };
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
