// reconcile/loop: when syncs run. A fake store and reconciler record the calls; the
// periods are short real times, and every wait polls the recorded calls (bounded).
import { expect } from 'chai';
import { SyncLoop } from '../../../lib/reconcile/loop.js';
import type { SyncKind, SyncReport } from '../../../lib/reconcile/reconciler.js';

function report(kind: SyncKind, needFull = false): SyncReport {
  return {
    kind,
    services: 0,
    ops: 0,
    failed: 0,
    byOp: {},
    durationMs: 0,
    finishedAt: 0,
    needFull,
    errors: {},
    skipped: [],
    triggerTimes: [],
  };
}

class Fakes {
  calls: SyncKind[] = [];
  dirty = 0;
  failNext = false;
  needFullNext = false;
  listener: (() => void) | undefined;
  readonly store = {
    onDirty: (cb: () => void) => {
      this.listener = cb;
      return () => (this.listener = undefined);
    },
    get dirtyCount() {
      return fakes.dirty;
    },
  };
  readonly reconciler = {
    drains: { size: 0 },
    nextRetry: () => undefined,
    full: () => this.step('full'),
    partial: () => {
      this.dirty = 0;
      return this.step('partial');
    },
    drain: () => this.step('drain'),
  };
  private async step(kind: SyncKind): Promise<SyncReport> {
    this.calls.push(kind);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('dump failed');
    }
    const needFull = this.needFullNext;
    this.needFullNext = false;
    return report(kind, needFull);
  }
  change(): void {
    this.dirty++;
    this.listener?.();
  }
}
let fakes: Fakes;

const log = { info() {}, warn() {}, debug() {}, error() {} };

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  expect(cond(), `condition within ${ms} ms; calls: ${fakes.calls.join(',')}`).to.equal(true);
}

describe('reconcile/loop (R1.3)', () => {
  let loop: SyncLoop;
  beforeEach(() => {
    fakes = new Fakes();
  });
  afterEach(() => loop.stop());

  const start = (minSyncPeriodMs: number, syncPeriodMs: number): void => {
    loop = new SyncLoop({
      reconciler: fakes.reconciler,
      store: fakes.store,
      log,
      timing: () => ({ minSyncPeriodMs, syncPeriodMs }),
    });
    loop.start();
  };

  it('starts with a full sync, then syncs a change at once with minSyncPeriod 0s', async () => {
    start(0, 60_000);
    await until(() => fakes.calls.length === 1);
    expect(fakes.calls).to.deep.equal(['full']);
    fakes.change();
    await until(() => fakes.calls.length === 2);
    expect(fakes.calls).to.deep.equal(['full', 'partial']);
  });

  it('with minSyncPeriod 0s a change is synced in the same turn of the event loop, not after a timer', async () => {
    start(0, 60_000);
    await until(() => fakes.calls.length === 1);
    // A timer of the shortest wait (1 ms), set before the change: a loop that waits on a
    // timer of its own is called after it.
    const timerFired = new Promise<string[]>((r) => setTimeout(() => r([...fakes.calls]), 0));
    fakes.change();
    expect(await timerFired).to.deep.equal(['full', 'partial']);
  });

  it('changes reported in one turn of the event loop are one partial sync', async () => {
    start(0, 60_000);
    await until(() => fakes.calls.length === 1);
    for (let i = 0; i < 5; i++) fakes.change();
    await until(() => fakes.calls.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(fakes.calls).to.deep.equal(['full', 'partial']);
  });

  it('coalesces changes that arrive within minSyncPeriod into one partial sync', async () => {
    start(300, 60_000);
    await until(() => fakes.calls.length === 1);
    for (let i = 0; i < 5; i++) fakes.change();
    await until(() => fakes.calls.length === 2, 2000);
    await new Promise((r) => setTimeout(r, 400));
    expect(fakes.calls).to.deep.equal(['full', 'partial']);
  });

  it('runs a full resync every syncPeriod', async () => {
    start(0, 100);
    await until(() => fakes.calls.filter((c) => c === 'full').length >= 3, 2000);
  });

  it('a failed sync is followed by a full resync (after a backoff), not a crash', async () => {
    fakes.failNext = true;
    start(0, 60_000);
    await until(() => fakes.calls.length === 2, 3000);
    expect(fakes.calls).to.deep.equal(['full', 'full']);
  });

  it('a sync that reports lost state brings the next full resync forward', async () => {
    start(0, 60_000);
    await until(() => fakes.calls.length === 1);
    fakes.needFullNext = true;
    fakes.change();
    await until(() => fakes.calls.length === 3);
    expect(fakes.calls).to.deep.equal(['full', 'partial', 'full']);
  });
});
