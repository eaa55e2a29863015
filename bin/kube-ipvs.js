#!/usr/bin/env node
// Runs the bundled command from dist/bundle/ (npm run build); a checkout that was not built
// is told what to run.
import { launch } from './launch.js';

await launch('kube-ipvs', '../dist/bundle/kube-ipvs.js', () => undefined);
