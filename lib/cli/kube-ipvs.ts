// Entry point of the kube-ipvs command (bin/kube-ipvs.js imports this module).
import { main } from './commands/main.js';
import { runProgram } from './process.js';

await runProgram('kube-ipvs', (out) =>
  main(process.argv.slice(2), { stdout: out.stdout, stderr: out.stderr, env: process.env }),
);
