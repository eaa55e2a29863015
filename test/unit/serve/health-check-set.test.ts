// serve/health-check-set: which health-check node ports listen, the diff between two sets,
// and what a port answers (R10.6).
import { expect } from 'chai';
import type { HealthCheck } from '../../../lib/model/types.js';
import {
  diffListeners,
  healthCheckResponse,
  healthCheckSet,
  listenersFor,
} from '../../../lib/serve/health-check-set.js';

const checks = (entries: [string, number, number][]): Map<string, HealthCheck> =>
  new Map(entries.map(([k, nodePort, localEndpoints]) => [k, { nodePort, localEndpoints }]));

describe('serve/health-check-set (R10.6)', () => {
  it('gives one entry per port with the Service and its local endpoint count', () => {
    const s = healthCheckSet(
      checks([
        ['default/lb', 32122, 2],
        ['web/front', 30001, 0],
      ]),
    );
    expect([...s.ports.values()]).to.deep.equal([
      { port: 32122, namespace: 'default', name: 'lb', localEndpoints: 2 },
      { port: 30001, namespace: 'web', name: 'front', localEndpoints: 0 },
    ]);
    expect(s.conflicts).to.deep.equal([]);
  });

  it('gives a port claimed twice to the first Service by key, whatever the arrival order', () => {
    for (const order of [
      [
        ['b/two', 32000, 1],
        ['a/one', 32000, 0],
      ],
      [
        ['a/one', 32000, 0],
        ['b/two', 32000, 1],
      ],
    ] as [string, number, number][][]) {
      const s = healthCheckSet(checks(order));
      expect(s.ports.get(32000)?.name).to.equal('one');
      expect(s.conflicts).to.deep.equal([{ service: 'b/two', port: 32000, holder: 'a/one' }]);
    }
  });

  describe('diffListeners', () => {
    const want = (ports: number[]) => new Map(ports.map((p) => [p, null]));
    it('opens the new ports and closes the gone ones, sorted', () => {
      expect(diffListeners([30001, 30002, 30005], want([30005, 30004, 30003]))).to.deep.equal({
        open: [30003, 30004],
        close: [30001, 30002],
      });
    });
    it('does nothing when the sets are equal (a count change reopens nothing)', () => {
      expect(diffListeners([30001], want([30001]))).to.deep.equal({ open: [], close: [] });
    });
    it('from nothing opens all; to nothing closes all', () => {
      expect(diffListeners([], want([2, 1]))).to.deep.equal({ open: [1, 2], close: [] });
      expect(diffListeners([2, 1], want([]))).to.deep.equal({ open: [], close: [1, 2] });
    });
  });

  describe('listenersFor', () => {
    it('listens on every address without nodePortAddresses, else on each selected node address', () => {
      expect([...listenersFor([32122, 30001], undefined)]).to.deep.equal([
        ['32122 *', { port: 32122, host: undefined }],
        ['30001 *', { port: 30001, host: undefined }],
      ]);
      expect([...listenersFor([32122], ['192.0.2.1', 'fd00::1']).keys()]).to.deep.equal([
        '32122 192.0.2.1',
        '32122 fd00::1',
      ]);
    });
    it('an address change closes and opens only the listeners on that address', () => {
      const before = listenersFor([32122, 30001], ['192.0.2.1', '192.0.2.2']);
      const after = listenersFor([32122, 30001], ['192.0.2.1', '192.0.2.3']);
      expect(diffListeners(before.keys(), after)).to.deep.equal({
        open: ['30001 192.0.2.3', '32122 192.0.2.3'],
        close: ['30001 192.0.2.2', '32122 192.0.2.2'],
      });
    });
  });

  describe('healthCheckResponse', () => {
    const entry = { port: 32122, namespace: 'default', name: 'lb', localEndpoints: 1 };
    it("is 200 with a local endpoint, in kube-proxy's body and header", () => {
      const r = healthCheckResponse(entry, true);
      expect(r.status).to.equal(200);
      expect(JSON.parse(r.body)).to.deep.equal({
        service: { namespace: 'default', name: 'lb' },
        localEndpoints: 1,
        serviceProxyHealthy: true,
      });
      expect(r.headers['x-load-balancing-endpoint-weight']).to.equal('1');
    });
    it('is 503 without a local endpoint', () => {
      const r = healthCheckResponse({ ...entry, localEndpoints: 0 }, true);
      expect(r.status).to.equal(503);
      expect(JSON.parse(r.body).localEndpoints).to.equal(0);
    });
    it('is 503 while the proxy is unhealthy (node being drained), endpoints or not', () => {
      const r = healthCheckResponse({ ...entry, localEndpoints: 3 }, false);
      expect(r.status).to.equal(503);
      expect(JSON.parse(r.body).serviceProxyHealthy).to.equal(false);
    });
  });
});
