// What a kube-ipvs command gets to talk with, and how it reports a usage mistake.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Resolves with the exit code. */
  run(args: string[], io: CommandIo): Promise<number>;
}

/** A mistake in how the command was called: printed with a pointer to --help, exit 2. */
export class UsageError extends Error {}

export interface FlagSpec {
  type: 'string' | 'boolean';
}

export type FlagValues<O extends Record<string, FlagSpec>> = {
  [K in keyof O]?: O[K]['type'] extends 'string' ? string : boolean;
};

/**
 * Long options only, each at most once: `--name VALUE`, `--name=VALUE`, `--flag`. node:util
 * parseArgs splits the words; its strict-mode messages ("Option '--x <value>' argument
 * missing") are replaced by the checks below, which speak the command's language. A value
 * that looks like an option (`--manifests --node-name x`) counts as missing; a value that
 * starts with '-' can still be given as `--name=-value`.
 */
export function parseFlags<O extends Record<string, FlagSpec>>(
  args: string[],
  options: O,
): { values: FlagValues<O> } {
  const { tokens } = parseArgs({
    args,
    options: options as NonNullable<ParseArgsConfig['options']>,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | boolean> = {};
  for (const t of tokens) {
    if (t.kind === 'positional') throw new UsageError(`unexpected argument '${t.value}'`);
    if (t.kind === 'option-terminator') continue;
    const spec = Object.hasOwn(options, t.name) ? options[t.name] : undefined;
    if (!spec || !t.rawName.startsWith('--')) throw new UsageError(`unknown option '${t.rawName}'`);
    if (t.name in values) throw new UsageError(`${t.rawName} given twice`);
    if (spec.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`${t.rawName} takes no value`);
      values[t.name] = true;
      continue;
    }
    const missing =
      t.value === undefined || (!t.inlineValue && t.value.startsWith('-') && t.value !== '-');
    if (missing) throw new UsageError(`${t.rawName} needs a value`);
    values[t.name] = t.value;
  }
  return { values: values as FlagValues<O> };
}
