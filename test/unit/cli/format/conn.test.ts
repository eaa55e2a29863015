// ipvsadm -Lc: re-printing /proc/net/ip_vs_conn (kernel format "%-3s %08X %04X ... %7u%s").
import { expect } from 'chai';
import { formatConnections } from '../../../../lib/cli/format/conn.js';

const HEADER = 'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n';
const v4 = (
  p: string,
  c: string,
  cp: string,
  v: string,
  vp: string,
  d: string,
  dp: string,
  st: string,
  exp: number,
  pe = '',
): string =>
  `${p.padEnd(3)} ${c} ${cp} ${v} ${vp} ${d} ${dp} ${st.padEnd(11)} ${String(exp).padStart(7)}${pe}\n`;

describe('lvsadm connection renderer (ipvsadm -Lc)', function () {
  const proc =
    HEADER +
    v4('UDP', 'C6120001', '815C', 'C8B5A387', '1F90', '0B121654', '1F90', 'UDP', 268) +
    v4('IP', 'C6120000', '0000', 'C03427F5', '0000', '644C10A2', '520D', 'NONE', 1221492) +
    'TCP fd00:0000:0000:0000:0000:0000:0000:0001 0050 fd00:0000:0000:0000:0000:0000:0000:0002 01BB fd00:0001:0000:0000:0000:0000:0000:0005 1F90 ESTABLISHED     899\n' +
    v4('UDP', '0A000001', '13C4', '0A000002', '13C4', '0A000003', '13C4', 'UDP', 59, ' sip 3f2a1b');

  it('prints entries like ipvsadm -Lnc (numeric, %02d:%02d expiry, IPv6 compressed)', function () {
    expect(formatConnections(proc, { numeric: true, persistentConn: false })).to.equal(
      'IPVS connection entries\n' +
        'pro expire state       source             virtual            destination\n' +
        'UDP 04:28  UDP         198.18.0.1:33116   200.181.163.135:8080 11.18.22.84:8080\n' +
        'IP  20358:12 NONE        198.18.0.0:0       192.52.39.245:0    100.76.16.162:21005\n' +
        'TCP 14:59  ESTABLISHED [fd00::1]:80       [fd00::2]:443      [fd00:1::5]:8080\n' +
        'UDP 00:59  UDP         10.0.0.1:5060      10.0.0.2:5060      10.0.0.3:5060\n',
    );
  });

  it('--persistent-conn keeps the upstream header/row width mismatch and shows pe data only on 11-field rows', function () {
    const out = (formatConnections(proc, { numeric: true, persistentConn: true }) ?? '').split(
      '\n',
    );
    expect(out[1]).to.equal(
      'pro expire state       source             virtual            destination        pe name          pe_data',
    );
    expect(out[2]).to.equal(
      'UDP 04:28  UDP         198.18.0.1:33116   200.181.163.135:8080 11.18.22.84:8080',
    );
    expect(out[5]).to.equal(
      'UDP 00:59  UDP         10.0.0.1:5060      10.0.0.2:5060      10.0.0.3:5060    sip                3f2a1b',
    );
  });

  it('resolves names through the injected resolver without -n', function () {
    const out = formatConnections(
      HEADER + v4('TCP', '7F000001', '0050', '7F000001', '0050', '7F000001', '0050', 'CLOSE', 5),
      {
        numeric: false,
        persistentConn: false,
        resolver: {
          host: (_f, a) => (a === '127.0.0.1' ? 'localhost' : null),
          service: (p, pr) => (p === 80 && pr === 'tcp' ? 'http' : null),
        },
      },
    );
    expect(out).to.equal(
      'IPVS connection entries\n' +
        'pro expire state       source             virtual            destination\n' +
        'TCP 00:05  CLOSE       localhost:http     localhost:http     localhost:http\n',
    );
  });

  it('returns null for an empty file (ipvsadm: unexpected input)', function () {
    expect(formatConnections('', { numeric: true, persistentConn: false })).to.equal(null);
  });
});
