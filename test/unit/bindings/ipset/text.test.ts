import { expect } from 'chai';
import { parseEntryCount } from '../../../../bindings/ipset/run.js';
import { addLine, createLine, delLine, parseIpsetSave } from '../../../../bindings/ipset/text.js';

describe('bindings/ipset text', function () {
  it('builds restore lines', function () {
    expect(
      createLine({ name: 'KUBE-IPVS-EXTERNAL', type: 'hash:ip,port', family: 'inet' }),
    ).to.equal('create KUBE-IPVS-EXTERNAL hash:ip,port family inet');
    expect(
      createLine({ name: 'L', type: 'hash:ip,port,ip', family: 'inet6', maxelem: 1048576 }),
    ).to.equal('create L hash:ip,port,ip family inet6 maxelem 1048576');
    expect(addLine('S', '10.0.0.1,tcp:80')).to.equal('add S 10.0.0.1,tcp:80');
    expect(delLine('S', 'fd00::1,udp:53')).to.equal('del S fd00::1,udp:53');
  });

  it('refuses a name ipset would reject or a shell-looking one', function () {
    expect(() => addLine('A'.repeat(32), 'x')).to.throw(RangeError);
    expect(() => addLine('a b', 'x')).to.throw(RangeError);
    expect(() => addLine('', 'x')).to.throw(RangeError);
  });

  it('parses ipset save output (ipset 7.17), empty sets included', function () {
    const text = `create KUBE-IPVS-EXTERNAL hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x1c2a0a4e
add KUBE-IPVS-EXTERNAL 10.0.0.1,sctp:80
add KUBE-IPVS-EXTERNAL 10.0.0.1,tcp:80
create KUBE-IPVS-6-LOOP-BACK hash:ip,port,ip family inet6 hashsize 1024 maxelem 65536 bucketsize 12 initval 0x5e0b2a9f
add KUBE-IPVS-6-LOOP-BACK fd00::1,tcp:80,fd00::1
create EMPTY hash:ip family inet hashsize 1024 maxelem 65536
`;
    const sets = parseIpsetSave(text);
    expect([...sets.keys()]).to.deep.equal([
      'KUBE-IPVS-EXTERNAL',
      'KUBE-IPVS-6-LOOP-BACK',
      'EMPTY',
    ]);
    expect([...(sets.get('KUBE-IPVS-EXTERNAL') ?? [])]).to.deep.equal([
      '10.0.0.1,sctp:80',
      '10.0.0.1,tcp:80',
    ]);
    expect([...(sets.get('KUBE-IPVS-6-LOOP-BACK') ?? [])]).to.deep.equal([
      'fd00::1,tcp:80,fd00::1',
    ]);
    expect(sets.get('EMPTY')?.size).to.equal(0);
  });

  it('reads the entry count of ipset list -t (ipset 7.17)', function () {
    const listing =
      'Name: KUBE-IPVS-LOOP-BACK\nType: hash:ip,port,ip\nRevision: 6\nHeader: family inet hashsize 1024 maxelem 1048576 bucketsize 12 initval 0x1d2f9a3c\nSize in memory: 1234\nReferences: 1\nNumber of entries: 12\n';
    expect(parseEntryCount(listing)).to.equal(12);
    expect(parseEntryCount('Name: X\n')).to.equal(undefined);
  });
});
