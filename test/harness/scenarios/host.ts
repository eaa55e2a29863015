// Host tests of the iptables backend need root (network namespaces) and the iptables
// tools; without them they fail loudly rather than skip, as the kernel tests do outside UML.
import { execFileSync } from 'node:child_process';

export function hostCheck(): void {
  if (process.getuid?.() !== 0)
    throw new Error('host netns tests of the iptables backend need root');
  for (const tool of ['ip', 'iptables-restore', 'iptables-save', 'ip6tables-save', 'conntrack'])
    try {
      execFileSync(tool, [tool === 'ip' ? '-V' : '--version'], { stdio: 'ignore', timeout: 5000 });
    } catch {
      throw new Error(`host netns tests of the iptables backend need ${tool}`);
    }
}
