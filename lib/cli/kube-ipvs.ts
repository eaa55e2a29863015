// Entry point of the kube-ipvs command (bin/kube-ipvs.js imports this module).
import { main } from './commands/main.js';

const code = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
});
// exitCode, not exit(): lets a large stdout drain before the process ends.
process.exitCode = code;
