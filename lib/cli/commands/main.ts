// The kube-ipvs command line: a table of subcommands; usage mistakes exit 2.
import { checkCommand } from './check.js';
import { cleanupCommand } from './cleanup.js';
import { UsageError, type Command, type CommandIo } from './io.js';
import { planCommand } from './plan.js';
import { renderCommand } from './render.js';
import { runCommand } from './run.js';
import { versionCommand } from './version.js';

export const COMMANDS: readonly Command[] = [
  runCommand,
  planCommand,
  renderCommand,
  cleanupCommand,
  checkCommand,
  versionCommand,
];

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: kube-ipvs COMMAND [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'kube-ipvs COMMAND --help' for a command's options.\n`;
}

function unknownCommand(name: string, io: CommandIo): number {
  io.stderr(`kube-ipvs: unknown command '${name}'\n\n${usage()}`);
  return 2;
}

export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr(usage());
    return 2;
  }
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    io.stdout(usage());
    return 0;
  }
  if (name === '--version' || name === '-v') return versionCommand.run([], io);
  if (name === 'help') {
    // `kube-ipvs help render`, as `kube-ipvs render --help`.
    const topic = COMMANDS.find((c) => c.name === rest[0]);
    if (!topic || rest.length > 1) return unknownCommand(rest.join(' '), io);
    io.stdout(`usage: ${topic.usage}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) return unknownCommand(name, io);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`usage: ${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`kube-ipvs ${cmd.name}: ${e.message}\nusage: ${cmd.usage}\n`);
      return 2;
    }
    // Commands report what can go wrong themselves; anything else is a bug, for the
    // program's last-resort handler (lib/cli/process.ts) to name in one line.
    throw e;
  }
}
