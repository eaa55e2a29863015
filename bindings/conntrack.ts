// Connection tracking entries, removed with the conntrack tool (execFile, no shell).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface FlowMatch {
  protocol: 'udp' | 'tcp' | 'sctp';
  /** Original destination: the virtual address and port. */
  address: string;
  port: number;
  /** Where the flow was sent (the real server's address). */
  natAddress: string;
}

/**
 * Deletes the flows to address:port that were NATed to natAddress; returns how many.
 * A UDP client keeps using a conntrack entry to a deleted real server until it expires,
 * so without this it would keep sending to a dead pod.
 */
export async function deleteFlows(m: FlowMatch, timeoutMs = 10_000): Promise<number> {
  const family = m.address.includes(':') ? 'ipv6' : 'ipv4';
  const args = [
    '-D',
    '-f',
    family,
    '-p',
    m.protocol,
    '--orig-dst',
    m.address,
    '--dport',
    String(m.port),
    '--dst-nat',
    m.natAddress,
  ];
  try {
    const { stderr } = await run('conntrack', args, { timeout: timeoutMs });
    return flowsDeleted(stderr);
  } catch (e) {
    // conntrack exits 1 when nothing matched; that is not a failure here.
    const err = e as { code?: unknown; stderr?: string };
    if (err.code === 1 && typeof err.stderr === 'string' && /0 flow entries/.test(err.stderr))
      return 0;
    throw e;
  }
}

function flowsDeleted(stderr: string): number {
  const m = /(\d+) flow entries have been deleted/.exec(stderr);
  return m ? Number(m[1]) : 0;
}
