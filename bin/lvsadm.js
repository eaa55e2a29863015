#!/usr/bin/env node
// Runs the compiled command from dist/; a checkout that was not built is told what to run.
import { launch } from './launch.js';

await launch('lvsadm', '../dist/lib/cli/lvsadm.js', (module) => module.main(process.argv));
