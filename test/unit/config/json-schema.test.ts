import { expect } from 'chai';
import { configJsonSchema } from '../../../lib/config/index.js';

type S = Record<string, unknown>;

describe('config/json-schema', () => {
  const schema = configJsonSchema();
  const props = schema.properties as Record<string, S>;

  it('is a draft 2020-12 JSON Schema of the file as written, strict at every level', () => {
    expect(schema.$schema).to.equal('https://json-schema.org/draft/2020-12/schema');
    expect(schema.title).to.equal('KubeIpvsConfiguration');
    expect(schema.additionalProperties).to.equal(false);
    expect(schema.required).to.deep.equal(['apiVersion', 'kind']);
    expect(props.gracefulTermination?.additionalProperties).to.equal(false);
    const rule = (props.services?.items ?? {}) as S;
    expect(rule.additionalProperties).to.equal(false);
    expect(((rule.properties as Record<string, S>).match ?? {}).additionalProperties).to.equal(
      false,
    );
  });

  it('carries every default and a description for every field', () => {
    const defaults: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(props)) {
      expect(v.description, k).to.be.a('string').and.not.equal('');
      if ('default' in v) defaults[k] = v.default;
    }
    expect(defaults).to.deep.equal({
      backend: 'auto',
      scheduler: 'rr',
      schedulerFlags: [],
      services: [],
      syncPeriod: '30s',
      minSyncPeriod: '1s',
      tcpTimeout: '0s',
      tcpFinTimeout: '0s',
      udpTimeout: '0s',
      strictARP: false,
      excludeCIDRs: [],
      nodePortAddresses: [],
      masqueradeAll: false,
      clusterCIDR: [],
      gracefulTermination: {},
      metricsBindAddress: '127.0.0.1:10249',
      healthzBindAddress: '0.0.0.0:10256',
      interface: 'kube-ipvs0',
    });
  });

  it('describes durations as strings with the Go duration pattern', () => {
    const p = props.syncPeriod as S;
    expect(p.type).to.equal('string');
    expect(new RegExp(p.pattern as string).test('1m30s')).to.equal(true);
    expect(new RegExp(p.pattern as string).test('30')).to.equal(false);
  });

  it('returns a fresh copy each time', () => {
    const a = configJsonSchema();
    (a.properties as S).backend = 'mutated';
    expect((configJsonSchema().properties as S).backend).to.not.equal('mutated');
  });
});
