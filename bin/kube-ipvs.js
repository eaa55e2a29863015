#!/usr/bin/env node
import '../dist/lib/cli/kube-ipvs.js';
