// Runs inside a network namespace the test created (`ip netns exec`): one step of the
// local-route tests with RtnlClient, printed as one JSON document on stdout.
import { RtnlClient } from '../../../bindings/rtnl/client.js';

const [step, iface, ...addresses] = process.argv.slice(2);
const rtnl = RtnlClient.open();
try {
  const link = await rtnl.link(iface ?? '');
  if (!link) throw new Error(`no interface ${iface}`);
  const change = async (op: 'add' | 'delete') =>
    (
      await rtnl.changeLocalRoutes(addresses.map((address) => ({ op, index: link.index, address })))
    ).map((r) => (r.ok ? 'ok' : ((r.error as { code?: string }).code ?? r.error.message)));
  const out =
    step === 'add'
      ? await change('add')
      : step === 'delete'
        ? await change('delete')
        : (await rtnl.localRoutes()).filter((r) => r.index === link.index);
  process.stdout.write(JSON.stringify(out) + '\n');
} finally {
  rtnl.close();
}
