// Counting the processes a test's own child script spawns: every child process of Node
// goes through ChildProcess.prototype.spawn (execFile too); the method is internal, so it
// is not in the typings.
import { ChildProcess } from 'node:child_process';

interface Spawning {
  spawn(options: { file: string; args: string[] }): unknown;
}

/** Calls `seen` with each process's file and arguments (args[0], the argv0, left out). */
export function watchSpawns(seen: (file: string, args: readonly string[]) => void): void {
  const proto = ChildProcess.prototype as unknown as Spawning;
  const spawn = proto.spawn;
  proto.spawn = function (this: Spawning, options) {
    seen(options.file, options.args.slice(1));
    return spawn.call(this, options);
  };
}
