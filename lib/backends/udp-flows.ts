// A removed UDP real server takes its conntrack entries with it, whatever the backend: UDP
// has no end of connection, so without this a client that keeps sending keeps reaching
// the gone pod through its old entry (kube-proxy does the same).
import { deleteFlows } from '../../bindings/conntrack.js';
import type { OpResult } from './backend.js';
import type { Op } from '../reconcile/diff.js';

/** Deletes the UDP flows of every real server these ops removed; failures are warned about. */
export async function forgetRemovedUdpFlows(
  ops: readonly Op[],
  results: readonly OpResult[],
  warn: ((message: string) => void) | undefined,
): Promise<void> {
  const work: Promise<unknown>[] = [];
  ops.forEach((o, k) => {
    if (o.op !== 'deleteDestination' || o.service.protocol !== 17 || !results[k]?.ok) return;
    const { address, port } = o.service;
    const natAddress = o.destination.address;
    work.push(
      deleteFlows({ protocol: 'udp', address, port, natAddress }).catch((e: unknown) =>
        warn?.(
          `conntrack: removing UDP flows to ${address}:${port} via ${natAddress}: ${e instanceof Error ? e.message : String(e)}`,
        ),
      ),
    );
  });
  await Promise.all(work);
}
