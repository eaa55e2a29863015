// `kube-ipvs check --config FILE`: validate a config file; one line when it is valid, every
// error with file:line:column when it is not.
import { checkConfig } from '../../config/check.js';
import { parseFlags, UsageError, type Command } from './io.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'validate a config file',
  usage: 'kube-ipvs check --config FILE',
  async run(args, io) {
    const { values } = parseFlags(args, { config: { type: 'string' } });
    if (values.config === undefined) throw new UsageError('--config FILE is required');
    const r = await checkConfig(values.config);
    if (r.ok) {
      io.stdout(`${r.summary}\n`);
      return 0;
    }
    for (const e of r.errors) io.stderr(`${e}\n`);
    return 1;
  },
};
