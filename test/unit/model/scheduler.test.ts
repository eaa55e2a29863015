import { expect } from 'chai';
import {
  SCHEDULER_ANNOTATION,
  SCHEDULER_FLAGS_ANNOTATION,
  resolveScheduler,
} from '../../../lib/model/index.js';
import { displayFlags, schedulerFlagBits } from '../../../lib/ipvs/schedulers.js';
import { config, svc } from './fixtures.js';

const OBJ = 'Service default/svc-web';

describe('model/scheduler', () => {
  const rules = config({
    scheduler: 'lc',
    services: [
      { match: { namespace: 'kube-system', name: 'kube-dns' }, scheduler: 'rr', flags: [] },
      { match: { labels: { tier: 'cache' } }, scheduler: 'sh', flags: ['sh-port'] },
      { match: { labels: { tier: 'cache' } }, scheduler: 'dh', flags: [] },
      { match: { namespace: 'kube-system' }, scheduler: 'nq', flags: [] },
    ],
  });

  it('G-6: no annotation and no matching rule gives the config default', () => {
    const { choice, warnings } = resolveScheduler(svc(), rules, OBJ);
    expect(choice).to.deep.equal({ scheduler: 'lc', flags: [], source: 'default' });
    expect(warnings).to.deep.equal([]);
  });

  it('G-6: the first matching rule wins (namespace+name, labels)', () => {
    const dns = resolveScheduler(svc({ name: 'kube-dns', namespace: 'kube-system' }), rules, OBJ);
    expect(dns.choice).to.deep.equal({ scheduler: 'rr', flags: [], source: 'rule', rule: 0 });
    const other = resolveScheduler(svc({ name: 'metrics', namespace: 'kube-system' }), rules, OBJ);
    expect(other.choice.scheduler).to.equal('nq');
    const cache = resolveScheduler(svc({ labels: { tier: 'cache', app: 'x' } }), rules, OBJ);
    expect(cache.choice).to.deep.equal({
      scheduler: 'sh',
      flags: ['flag-2'],
      source: 'rule',
      rule: 1,
    });
  });

  it('G-6: the annotation wins over every rule', () => {
    const r = resolveScheduler(
      svc({
        name: 'kube-dns',
        namespace: 'kube-system',
        annotations: {
          [SCHEDULER_ANNOTATION]: 'mh',
          [SCHEDULER_FLAGS_ANNOTATION]: 'mh-port, mh-fallback',
        },
      }),
      rules,
      OBJ,
    );
    expect(r.choice).to.deep.equal({
      scheduler: 'mh',
      flags: ['flag-1', 'flag-2'],
      source: 'annotation',
    });
    expect(r.warnings).to.deep.equal([]);
  });

  it('G-6: a flags annotation alone refines the configured scheduler', () => {
    const r = resolveScheduler(
      svc({ annotations: { [SCHEDULER_FLAGS_ANNOTATION]: 'flag-3' } }),
      rules,
      OBJ,
    );
    expect(r.choice.scheduler).to.equal('lc');
    expect(r.choice.flags).to.deep.equal(['flag-3']);
  });

  it('G-6: an unknown scheduler in the annotation is reported and the config choice is used', () => {
    const r = resolveScheduler(
      svc({ labels: { tier: 'cache' }, annotations: { [SCHEDULER_ANNOTATION]: 'fastest' } }),
      rules,
      OBJ,
    );
    expect(r.choice).to.deep.equal({ scheduler: 'sh', flags: ['flag-2'], source: 'rule', rule: 1 });
    expect(r.warnings).to.have.length(1);
    expect(r.warnings[0]?.object).to.equal(OBJ);
    expect(r.warnings[0]?.field).to.equal(`metadata.annotations["${SCHEDULER_ANNOTATION}"]`);
    expect(r.warnings[0]?.reason)
      .to.contain('"fastest" is not an IPVS scheduler')
      .and.to.contain('using the configured scheduler sh');
  });

  it('G-6: a flag that does not fit the annotated scheduler invalidates the annotation', () => {
    const r = resolveScheduler(
      svc({
        annotations: { [SCHEDULER_ANNOTATION]: 'rr', [SCHEDULER_FLAGS_ANNOTATION]: 'sh-port' },
      }),
      rules,
      OBJ,
    );
    expect(r.choice.scheduler).to.equal('lc');
    expect(r.warnings[0]?.field).to.equal(`metadata.annotations["${SCHEDULER_FLAGS_ANNOTATION}"]`);
    expect(r.warnings[0]?.reason).to.contain('"sh-port" applies only to the sh scheduler');
  });

  it('G-6: an unknown flag name is reported', () => {
    const r = resolveScheduler(
      svc({ annotations: { [SCHEDULER_FLAGS_ANNOTATION]: 'turbo' } }),
      rules,
      OBJ,
    );
    expect(r.choice.flags).to.deep.equal([]);
    expect(r.warnings[0]?.reason).to.contain('"turbo" is not a scheduler flag');
  });

  it('flag bits and ipvsadm display names follow ipvsadm (sh-/mh- aliases, flag-N otherwise)', () => {
    expect(schedulerFlagBits(['flag-1', 'flag-2', 'flag-3'])).to.equal(0x38);
    expect(displayFlags('sh', ['flag-1', 'flag-2'])).to.deep.equal(['sh-fallback', 'sh-port']);
    expect(displayFlags('mh', ['flag-2'])).to.deep.equal(['mh-port']);
    expect(displayFlags('rr', ['flag-2'])).to.deep.equal(['flag-2']);
  });
});
