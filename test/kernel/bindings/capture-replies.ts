// `node dist/test/kernel/bindings/capture-replies.js [--host|--ipset|--nftables] [OUT_DIR]`: records
// real kernel replies for the unit tests (test/fixtures/kernel-replies/). By default it
// boots UML once (test/harness/uml.ts) and runs itself inside, where it programs a small
// IPVS table with ipvsadm, sends a little traffic through it and writes the IPVS replies,
// each with ipvsadm's listing of the same state in its comment; `--host` records only
// the generic-netlink controller replies, which the host kernel gives without IPVS;
// `--ipset` (in UML) fills three sets with the ipset tool and records only the ipset
// subsystem's replies, with `ipset save` in the comments; `--nftables` (on the host: the
// UML kernel has no nf_tables ip/ip6 family) makes chains with iptables-nft in a network
// namespace of its own and records the nf_tables chain dumps, with iptables-nft-save in
// the comments. Each request goes out on a raw netlink
// socket (extended and capped ACKs on, as openConnection sets them) and every reply
// datagram is written as one hex line. Not a test: run it by hand to renew fixtures.
import { createSocket } from 'node:dgram';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as C from '../../../bindings/ipvs/constants.js';
import * as ipset from '../../../bindings/ipset/index.js';
import * as nft from '../../../bindings/nftables/index.js';
import type { Request } from '../../../bindings/netlink/connection.js';
import { writeServiceNest } from '../../../bindings/ipvs/codec.js';
import { AF_INET } from '../../../bindings/ipvs/types.js';
import { str } from '../../../bindings/netlink/attributes.js';
import {
  CTRL_ATTR_FAMILY_NAME,
  CTRL_CMD_GETFAMILY,
  GENL_ID_CTRL,
  NETLINK_GENERIC,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
} from '../../../bindings/netlink/constants.js';
import { genlPayload, resolveFamily } from '../../../bindings/netlink/genl.js';
import { decodeMessages, encodeMessages } from '../../../bindings/netlink/message.js';
import { openConnection } from '../../../bindings/netlink/open.js';
import {
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NetlinkSocket,
  SOL_NETLINK,
} from '../../../bindings/netlink/socket.js';
import { encodeWith } from '../../../bindings/netlink/writer.js';
import { run } from '../../harness/exec.js';
import { inUml } from '../../harness/in-uml.js';
import { runInUml } from '../../harness/uml.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../../..');

/** The table the fixtures describe (test/fixtures/kernel-replies/README.md repeats it). */
const SETUP: string[][] = [
  ['ip', 'link', 'set', 'lo', 'up'],
  ['ip', 'link', 'add', 'd0', 'type', 'dummy'],
  ['ip', 'link', 'set', 'd0', 'up'],
  ['ip', 'addr', 'add', '10.1.0.1/16', 'dev', 'd0'],
  ['ip', 'addr', 'add', 'fd00:1::1/64', 'dev', 'd0', 'nodad'],
  // The virtual addresses are local, as kube-proxy puts them on kube-ipvs0, so a local
  // client's packets pass IPVS (and its counters) on the way out.
  ['ip', 'addr', 'add', '10.96.0.1/32', 'dev', 'd0'],
  ['ip', 'addr', 'add', 'fd00::1/128', 'dev', 'd0', 'nodad'],
  ['ipvsadm', '-A', '-t', '10.96.0.1:443', '-s', 'rr', '-p', '10800', '-M', '255.255.255.0'],
  ['ipvsadm', '-a', '-t', '10.96.0.1:443', '-r', '10.1.0.5:6443', '-m', '-w', '3'],
  [
    'ipvsadm',
    '-a',
    '-t',
    '10.96.0.1:443',
    '-r',
    '10.1.0.6:6443',
    '-m',
    '-w',
    '0',
    '-x',
    '100',
    '-y',
    '10',
  ],
  ['ipvsadm', '-A', '-u', '[fd00::1]:53', '-s', 'sh', '-b', 'sh-port'],
  ['ipvsadm', '-a', '-u', '[fd00::1]:53', '-r', '[fd00:1::5]:5353', '-m', '-w', '1'],
];

/** `note` may span lines (ipvsadm's own listing of the same table, as a second reading). */
function hex(datagrams: Buffer[], note: string): string {
  const comment = note
    .trimEnd()
    .split('\n')
    .map((l) => `# ${l}`.trimEnd())
    .join('\n');
  return `${comment}\n${datagrams.map((d) => d.toString('hex')).join('\n')}\n`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Traffic that gives the counters values a test can tell from zero: two UDP datagrams
 * of 10 bytes to [fd00::1]:53 and one TCP SYN to 10.96.0.1:443. The real servers sit
 * behind a dummy device, so nothing answers; the TCP socket is closed before its first
 * retransmit (1 s), which leaves exactly one SYN counted.
 */
async function traffic(): Promise<void> {
  const udp = createSocket('udp6');
  for (let i = 0; i < 2; i++)
    await new Promise<void>((res, rej) =>
      udp.send(Buffer.alloc(10, i), 53, 'fd00::1', (e) => (e ? rej(e) : res())),
    );
  udp.close();
  const tcp = connect({ host: '10.96.0.1', port: 443 });
  tcp.on('error', () => undefined);
  await sleep(300);
  tcp.destroy();
  // The kernel folds its per-CPU counters into what a dump reports on the estimator's
  // 2-second tick; before that the dump shows zeros.
  await sleep(2500);
}

/** ipvsadm's listing: an independent decoder of the same kernel state. */
async function ipvsadm(...args: string[]): Promise<string> {
  return (await run('ipvsadm', ['-Ln', ...args])).stdout;
}

/** Sends one message and reads datagrams until NLMSG_DONE or an NLMSG_ERROR. */
function exchange(sock: NetlinkSocket, type: number, flags: number, payload: Buffer): Buffer[] {
  const seq = 1000 + Math.floor(Math.random() * 1000);
  sock.send(
    encodeMessages([{ type, flags: flags | NLM_F_REQUEST, seq, pid: sock.portId, payload }]),
  );
  const out: Buffer[] = [];
  for (;;) {
    const d = sock.receive(5000, out.length > 0);
    if (!d) throw new Error(`no reply to type ${type} within 5 s`);
    out.push(d);
    if (decodeMessages(d).some((m) => m.type === NLMSG_DONE || m.type === NLMSG_ERROR)) return out;
  }
}

function rawSocket(protocol = NETLINK_GENERIC): NetlinkSocket {
  const sock = new NetlinkSocket(protocol, () => undefined, 0, false);
  sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1);
  sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1);
  return sock;
}

const getFamily = (name: string): Buffer =>
  genlPayload(CTRL_CMD_GETFAMILY, 1, [str(CTRL_ATTR_FAMILY_NAME, name)]);

/** The controller's replies that need no IPVS: any kernel gives them. */
function genlFiles(sock: NetlinkSocket, kernel: string): Record<string, string> {
  return {
    'ctrl-getfamily-nlctrl.hex': hex(
      exchange(sock, GENL_ID_CTRL, NLM_F_ACK, getFamily('nlctrl')),
      `CTRL_CMD_GETFAMILY "nlctrl" with NLM_F_ACK (${kernel}): the family, then the ACK`,
    ),
    'ctrl-error-extack.hex': hex(
      exchange(sock, GENL_ID_CTRL, NLM_F_ACK, getFamily('a-name-too-long-x')),
      `CTRL_CMD_GETFAMILY with a 17-byte name (${kernel}): EINVAL, capped, extended-ack TLVs`,
    ),
  };
}

async function onHost(outDir: string): Promise<void> {
  const sock = rawSocket();
  const files = genlFiles(sock, `host kernel ${release()}`);
  files['ctrl-getfamily-ipvs-absent.hex'] = hex(
    exchange(sock, GENL_ID_CTRL, NLM_F_ACK, getFamily(C.IPVS_GENL_NAME)),
    `CTRL_CMD_GETFAMILY "IPVS" (host kernel ${release()}, no IPVS): ENOENT`,
  );
  sock.close();
  write(outDir, files);
}

function release(): string {
  return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
}

function write(outDir: string, files: Record<string, string>): void {
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(outDir, name), text);
}

async function inside(outDir: string): Promise<void> {
  await run('modprobe', ['-a', 'ipv6', 'ip_vs', 'ip_vs_rr', 'ip_vs_sh']);
  for (const argv of SETUP) await run(argv[0] ?? '', argv.slice(1));
  await traffic();
  const kernel = `UML ${release()}`;
  const conn = openConnection(NETLINK_GENERIC, { blocking: true });
  const family = (await resolveFamily(conn, C.IPVS_GENL_NAME)).id;
  conn.close();

  const sock = rawSocket();
  const ipvs = (cmd: number, attrs: Buffer = Buffer.alloc(0)): Buffer =>
    Buffer.concat([genlPayload(cmd, C.IPVS_GENL_VERSION, []), attrs]);
  const svc443 = encodeWith((w) =>
    writeServiceNest(
      w,
      { family: AF_INET, protocol: C.IPPROTO_TCP, address: '10.96.0.1', port: 443, fwmark: 0 },
      false,
    ),
  );
  // Each dump is read, then ipvsadm lists the same state at once (rates move every 2 s).
  const serviceDump = exchange(sock, family, NLM_F_DUMP, ipvs(C.IPVS_CMD_GET_SERVICE));
  const serviceList = [
    await ipvsadm('--exact', '--stats'),
    await ipvsadm('--exact', '--rate'),
  ].join('');
  const destDump = exchange(sock, family, NLM_F_DUMP, ipvs(C.IPVS_CMD_GET_DEST, svc443));
  const destList = [
    await ipvsadm(),
    await ipvsadm('--thresholds'),
    await ipvsadm('--persistent-conn'),
    await ipvsadm('--exact', '--stats'),
  ].join('');
  const files: Record<string, string> = {
    'ctrl-getfamily-ipvs.hex': hex(
      exchange(sock, GENL_ID_CTRL, NLM_F_ACK, getFamily(C.IPVS_GENL_NAME)),
      `CTRL_CMD_GETFAMILY "IPVS" with NLM_F_ACK (${kernel}): the family, then the ACK (IPVS family id ${family})`,
    ),
    'ipvs-service-dump.hex': hex(
      serviceDump,
      `IPVS_CMD_GET_SERVICE dump (${kernel}): two services, then NLMSG_DONE\n${serviceList}`,
    ),
    'ipvs-dest-dump.hex': hex(
      destDump,
      `IPVS_CMD_GET_DEST dump of TCP 10.96.0.1:443 (${kernel}): two destinations, then NLMSG_DONE\n${destList}`,
    ),
    'ipvs-get-info.hex': hex(
      exchange(sock, family, NLM_F_ACK, ipvs(C.IPVS_CMD_GET_INFO)),
      `IPVS_CMD_GET_INFO with NLM_F_ACK (${kernel}): the info, then the ACK\n${(await ipvsadm()).split('\n')[0] ?? ''}`,
    ),
    'ipvs-error-exists.hex': hex(
      exchange(
        sock,
        family,
        NLM_F_ACK,
        ipvs(
          C.IPVS_CMD_NEW_SERVICE,
          encodeWith((w) =>
            writeServiceNest(
              w,
              {
                family: AF_INET,
                protocol: C.IPPROTO_TCP,
                address: '10.96.0.1',
                port: 443,
                fwmark: 0,
                scheduler: 'rr',
                flags: 0,
                timeout: 0,
                netmask: 0xffffffff,
                peName: '',
              },
              true,
            ),
          ),
        ),
      ),
      `IPVS_CMD_NEW_SERVICE for an existing service (${kernel}): EEXIST, capped`,
    ),
  };
  sock.close();
  write(outDir, files);
}

/** The sets the ipset fixtures describe, written by the ipset tool (an independent writer). */
const IPSET_SETUP = [
  'create F-EXT hash:ip,port family inet maxelem 1048576',
  'add F-EXT 10.96.0.1,tcp:443',
  'add F-EXT 10.96.0.2,udp:53',
  'create F-LOOP hash:ip,port,ip family inet',
  'add F-LOOP 10.244.0.5,sctp:9000,10.244.0.5',
  'create F-6 hash:ip,port family inet6',
  'add F-6 fd00::1,tcp:80',
];

async function insideIpset(outDir: string): Promise<void> {
  await run('modprobe', ['-a', 'ipv6', 'ip_set', 'ip_set_hash_ipport', 'ip_set_hash_ipportip']);
  await run('ipset', ['restore'], { input: `${IPSET_SETUP.join('\n')}\n` });
  const kernel = `UML ${release()}`;
  const save = (await run('ipset', ['save'])).stdout;
  const sock = rawSocket(ipset.NETLINK_NETFILTER);
  const payload = (r: Request): Buffer => {
    const p = r.payload;
    if (Buffer.isBuffer(p)) return p;
    const b = Buffer.alloc(p.length);
    p.write(b, 0);
    return b;
  };
  const send = (r: Request, flags: number): Buffer[] =>
    exchange(sock, r.type, (r.flags ?? 0) | flags, payload(r));
  const files: Record<string, string> = {
    'ipset-list-dump.hex': hex(
      send(ipset.listRequest(undefined), NLM_F_DUMP),
      `IPSET_CMD_LIST dump of every set (${kernel}): headers and members, then NLMSG_DONE\n${save}`,
    ),
    'ipset-list-header.hex': hex(
      send(ipset.listRequest('F-LOOP', ipset.IPSET_FLAG_LIST_HEADER), NLM_F_DUMP),
      `IPSET_CMD_LIST of F-LOOP with IPSET_FLAG_LIST_HEADER (${kernel})\n${(await run('ipset', ['list', '-t', 'F-LOOP'])).stdout}`,
    ),
    'ipset-type.hex': hex(
      send(ipset.typeRequest('hash:ip,port', 'inet'), NLM_F_ACK),
      `IPSET_CMD_TYPE hash:ip,port inet with NLM_F_ACK (${kernel}): the revision range, then the ACK\n${(await run('ipset', ['list', '-t', 'F-EXT'])).stdout}`,
    ),
    'ipset-error-enoent.hex': hex(
      send(
        ipset.elementRequest('add', 'NO-SUCH-SET', 'inet', ipset.parseEntry('10.0.0.1,tcp:80')),
        NLM_F_ACK,
      ),
      `IPSET_CMD_ADD to a set that does not exist (${kernel}): ENOENT, capped`,
    ),
  };
  sock.close();
  write(outDir, files);
}

/** Chains the nftables fixtures describe, made by iptables-nft (an independent writer). */
const NFTABLES_SETUP: string[][] = [
  ['iptables-nft', '-t', 'filter', '-N', 'KUBE-IPVS-REJECT'],
  ['ip6tables-nft', '-t', 'filter', '-N', 'KUBE-IPVS-REJECT'],
  ['ip6tables-nft', '-t', 'filter', '-N', 'OTHER'],
];

/** Set in the copy of this script that runs in a namespace of its own (unshare -n). */
const OWN_NETNS = 'KUBE_IPVS_CAPTURE_OWN_NETNS';

async function nftablesOnHost(outDir: string): Promise<void> {
  if (process.env[OWN_NETNS] !== '1') {
    const r = await run(
      'unshare',
      ['-n', process.execPath, fileURLToPath(import.meta.url), '--nftables', outDir],
      { env: { ...process.env, [OWN_NETNS]: '1' } },
    );
    process.stdout.write(r.stdout);
    return;
  }
  for (const [cmd, ...args] of NFTABLES_SETUP) await run(cmd ?? '', args);
  const kernel = `host kernel ${release()}`;
  const sock = rawSocket(nft.NETLINK_NETFILTER);
  const send = (r: Request): Buffer[] =>
    exchange(sock, r.type, NLM_F_DUMP, Buffer.isBuffer(r.payload) ? r.payload : Buffer.alloc(0));
  const saved = async (cmd: string): Promise<string> =>
    (await run(cmd, [])).stdout.replace(/^# (Generated|Completed) .*\n/gm, '');
  const files: Record<string, string> = {
    'nft-chain-dump-ip.hex': hex(
      send(nft.chainDumpRequest(nft.NFPROTO_IPV4)),
      `NFT_MSG_GETCHAIN dump of family ip (${kernel}); iptables-nft-save:\n${await saved('iptables-nft-save')}`,
    ),
    'nft-chain-dump-ip6.hex': hex(
      send(nft.chainDumpRequest(nft.NFPROTO_IPV6)),
      `NFT_MSG_GETCHAIN dump of family ip6 (${kernel}); ip6tables-nft-save:\n${await saved('ip6tables-nft-save')}`,
    ),
  };
  sock.close();
  write(outDir, files);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const mode =
    args[0] === '--host' || args[0] === '--ipset' || args[0] === '--nftables' ? args[0] : undefined;
  const outDir = resolve(
    (mode ? args[1] : args[0]) ?? join(repoRoot, 'test/fixtures/kernel-replies'),
  );
  if (mode === '--host') {
    await onHost(outDir);
    return;
  }
  if (mode === '--nftables') {
    await nftablesOnHost(outDir);
    return;
  }
  if (inUml()) {
    await (mode === '--ipset' ? insideIpset(outDir) : inside(outDir));
    return;
  }
  const r = await runInUml({
    command: process.execPath,
    args: [fileURLToPath(import.meta.url), ...(mode ? [mode] : []), outDir],
    cwd: repoRoot,
    timeoutMs: 120_000,
    onOutput: (t) => process.stdout.write(t),
  });
  process.stdout.write(`captured into ${outDir} (${(r.durationMs / 1000).toFixed(1)} s in UML)\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`capture-replies: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
