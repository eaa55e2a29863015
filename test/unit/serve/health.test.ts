// serve/health: /healthz and /livez as kube-proxy answers them, with the clock passed in.
import { expect } from 'chai';
import type { V1Node } from '@kubernetes/client-node';
import {
  GO_ZERO_TIME,
  HealthState,
  healthzResponse,
  livezResponse,
  sourceLive,
} from '../../../lib/serve/health.js';
import { nodeEligible, TO_BE_DELETED_TAINT } from '../../../lib/serve/node-eligibility.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const PERIOD = 2000;
const TIMEOUT = 2 * PERIOD;

describe('serve/health', () => {
  describe('healthzResponse', () => {
    it("is 503 before the first successful sync, with Go's zero time as lastUpdated", () => {
      const s = new HealthState();
      const r = healthzResponse(s.current, T0, TIMEOUT);
      expect(r.status).to.equal(503);
      expect(JSON.parse(r.body)).to.deep.equal({
        lastUpdated: GO_ZERO_TIME,
        currentTime: '2026-12-01T10:00:00.000Z',
        nodeEligible: true,
      });
    });

    it('is 200 while the last successful sync is at most 2 × syncPeriod old, 503 after', () => {
      const s = new HealthState();
      expect(s.recordSync(T0, false, true)).to.equal(true);
      for (const [age, status] of [
        [0, 200],
        [TIMEOUT - 1, 200],
        [TIMEOUT, 200],
        [TIMEOUT + 1, 503],
      ] as const) {
        const r = healthzResponse(s.current, T0 + age, TIMEOUT);
        expect(r.status, `age ${age}`).to.equal(status);
        expect(JSON.parse(r.body).lastUpdated).to.equal('2026-12-01T10:00:00.000Z');
      }
    });

    it('a sync while the source is down does not count, so the age keeps growing; the next live one does', () => {
      const s = new HealthState();
      s.recordSync(T0, false, true);
      expect(s.recordSync(T0 + PERIOD, false, false)).to.equal(false);
      expect(s.recordSync(T0 + 2 * PERIOD, false, false)).to.equal(false);
      expect(healthzResponse(s.current, T0 + 2 * PERIOD + 1, TIMEOUT).status).to.equal(503);
      expect(s.recordSync(T0 + 3 * PERIOD, false, true)).to.equal(true);
      expect(healthzResponse(s.current, T0 + 3 * PERIOD, TIMEOUT).status).to.equal(200);
    });

    it('a sync that left the kernel state unknown (needFull) does not count', () => {
      const s = new HealthState();
      expect(s.recordSync(T0, true, true)).to.equal(false);
      expect(healthzResponse(s.current, T0, TIMEOUT).status).to.equal(503);
    });

    it('is 503 while the node is not eligible, however fresh the sync, and says so', () => {
      const s = new HealthState();
      s.recordSync(T0, false, true);
      s.setNodeEligible(false);
      const r = healthzResponse(s.current, T0, TIMEOUT);
      expect(r.status).to.equal(503);
      expect(JSON.parse(r.body).nodeEligible).to.equal(false);
      s.setNodeEligible(true);
      expect(healthzResponse(s.current, T0, TIMEOUT).status).to.equal(200);
    });
  });

  describe('livezResponse', () => {
    it('asks only that syncs complete: source down and node draining leave it 200', () => {
      const s = new HealthState();
      s.recordSync(T0, false, false);
      s.setNodeEligible(false);
      const r = livezResponse(s.current, T0 + TIMEOUT, TIMEOUT);
      expect(r.status).to.equal(200);
      expect(JSON.parse(r.body)).to.deep.equal({
        lastUpdated: '2026-12-01T10:00:00.000Z',
        currentTime: '2026-12-01T10:00:04.000Z',
      });
      expect(livezResponse(s.current, T0 + TIMEOUT + 1, TIMEOUT).status).to.equal(503);
    });

    it('is 200 before the first sync, as kube-proxy while starting up (a wait for the API server is no reason to restart)', () => {
      const r = livezResponse(new HealthState().current, T0, TIMEOUT);
      expect(r.status).to.equal(200);
      expect(JSON.parse(r.body).lastUpdated).to.equal(GO_ZERO_TIME);
    });
  });

  describe('sourceLive', () => {
    it('is live while every watch streams, and through a gap shorter than the grace', () => {
      expect(sourceLive(undefined, T0, 1000)).to.equal(true);
      expect(sourceLive(T0 - 999, T0, 1000)).to.equal(true);
      expect(sourceLive(T0 - 1000, T0, 1000)).to.equal(false);
    });
  });

  describe('nodeEligible (KEP-3836)', () => {
    it('is false with a deletionTimestamp or the autoscaler taint, true otherwise or unknown', () => {
      expect(nodeEligible(undefined)).to.equal(true);
      expect(nodeEligible({ metadata: { name: 'a' } })).to.equal(true);
      expect(
        nodeEligible({
          metadata: { name: 'a' },
          spec: { taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] },
        }),
      ).to.equal(true);
      expect(
        nodeEligible({
          metadata: { name: 'a' },
          spec: { taints: [{ key: TO_BE_DELETED_TAINT, effect: 'NoSchedule' }] },
        }),
      ).to.equal(false);
      expect(nodeEligible({ metadata: { name: 'a', deletionTimestamp: new Date(T0) } })).to.equal(
        false,
      );
      // As the API server's JSON has it (lists and watches are not deserialized into Dates).
      const raw = JSON.parse(
        '{"metadata":{"name":"a","deletionTimestamp":"2026-12-01T10:00:00Z"}}',
      ) as V1Node;
      expect(nodeEligible(raw)).to.equal(false);
    });
  });
});
