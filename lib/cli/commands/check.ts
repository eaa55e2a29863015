// `kube-ipvs check [--config FILE] [--node]`: validate a config file (one line when it is
// valid, every error with file:line:column when it is not) and report what this node
// offers each backend. Without --config the node is reported for every scheduler ipvsadm
// knows; with it, for the config's schedulers, and only when --node asks.
import { autoChoice, nodeCapabilities } from '../../backends/capabilities.js';
import { checkConfig } from '../../config/check.js';
import { schedulersInUse } from '../../config/schedulers.js';
import { SCHEDULERS } from '../../ipvs/schedulers.js';
import { formatCapabilities } from '../format/capabilities.js';
import { parseFlags, type Command } from './io.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'validate a config file and report what this node offers',
  usage: 'kube-ipvs check [--config FILE] [--node]',
  async run(args, io) {
    const { values } = parseFlags(args, { config: { type: 'string' }, node: { type: 'boolean' } });
    let schedulers: readonly string[] = SCHEDULERS;
    if (values.config !== undefined) {
      const r = await checkConfig(values.config);
      if (!r.ok) {
        for (const e of r.errors) io.stderr(`${e}\n`);
        return 1;
      }
      io.stdout(`${r.summary}\n`);
      if (!values.node) return 0;
      schedulers = schedulersInUse(r.config);
    }
    const capabilities = await nodeCapabilities(schedulers);
    const choice = autoChoice(capabilities, schedulers);
    io.stdout(formatCapabilities(capabilities, choice));
    return choice.backend === 'none' ? 1 : 0;
  },
};
