// `node spawns-child.js LOG ARGS...`: runs the kube-ipvs command line (bin/kube-ipvs.js, as
// the daemon starts) with ARGS, appending each process it spawns to LOG, one line each
// ("file arg arg"). Every child process of Node goes through ChildProcess.prototype.spawn
// (execFile too); the method is internal, so it is not in the typings.
import { ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { kubeIpvsBin } from '../../harness/daemon.js';

interface Spawning {
  spawn(options: { file: string; args: string[] }): unknown;
}

const [log = '', ...args] = process.argv.slice(2);
const proto = ChildProcess.prototype as unknown as Spawning;
const spawn = proto.spawn;
proto.spawn = function (this: Spawning, options) {
  // args[0] is the program name as given (argv0).
  appendFileSync(log, `${[options.file, ...options.args.slice(1)].join(' ')}\n`);
  return spawn.call(this, options);
};
process.argv = [process.argv[0] ?? process.execPath, kubeIpvsBin, ...args];
await import(kubeIpvsBin);
