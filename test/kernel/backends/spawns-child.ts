// `node spawns-child.js LOG ARGS...`: runs the kube-ipvs command line (bin/kube-ipvs.js, as
// the daemon starts) with ARGS, appending each process it spawns to LOG, one line each
// ("file arg arg").
import { appendFileSync } from 'node:fs';
import { kubeIpvsBin } from '../../harness/daemon.js';
import { watchSpawns } from '../../harness/spawns.js';

const [log = '', ...args] = process.argv.slice(2);
watchSpawns((file, argv) => appendFileSync(log, `${[file, ...argv].join(' ')}\n`));
process.argv = [process.argv[0] ?? process.execPath, kubeIpvsBin, ...args];
await import(kubeIpvsBin);
