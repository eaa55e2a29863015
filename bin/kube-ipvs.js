#!/usr/bin/env node
// Runs the compiled command from dist/; a checkout that was not built is told what to run.
import { launch } from './launch.js';

await launch('kube-ipvs', '../dist/lib/cli/kube-ipvs.js', () => undefined);
