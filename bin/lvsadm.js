#!/usr/bin/env node
import { main } from '../dist/lib/cli/lvsadm.js';

await main(process.argv);
