// Entry point of the kube-ipvs command (bin/kube-ipvs.js imports this module). The malloc
// arenas are capped before the program is imported: V8's helper threads make arenas of
// their own while a program of this size loads (lib/cli/memory.ts).
import { capMallocArenas } from './memory.js';

capMallocArenas();
const { main } = await import('./commands/main.js');
const { runProgram } = await import('./process.js');

await runProgram('kube-ipvs', (out) =>
  main(process.argv.slice(2), { stdout: out.stdout, stderr: out.stderr, env: process.env }),
);
