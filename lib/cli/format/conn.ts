// `ipvsadm -Lc`: ipvsadm reads /proc/net/ip_vs_conn (not netlink) and re-prints each line.

import { AF_INET, AF_INET6, type AddressFamily } from '../../../bindings/ipvs/types.js';
import { inetBytes, ntop6 } from './inet.js';
import { addrPortName, type NameResolver } from './names.js';
import { left } from './printf.js';
import { at } from './at.js';

export interface ConnFormat {
  numeric: boolean;
  persistentConn: boolean;
  resolver?: NameResolver;
}

/** fgets(buffer, 256): lines longer than 255 bytes come back in pieces. */
function fgetsChunks(text: string): string[] {
  const out: string[] = [];
  const buf = Buffer.from(text, 'utf8');
  let i = 0;
  while (i < buf.length) {
    const nl = buf.indexOf(0x0a, i);
    const end = Math.min(nl === -1 ? buf.length : nl + 1, i + 255);
    out.push(buf.subarray(i, end).toString('utf8'));
    i = end;
  }
  return out;
}

interface Addr {
  family: AddressFamily;
  text: string;
}

function isV4Text(s: string): boolean {
  const p = s.split('.');
  return p.length === 4 && p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255);
}

function tryV6(s: string): string | null {
  if (!s.includes(':')) return null;
  try {
    return ntop6(inetBytes(AF_INET6, s));
  } catch {
    return null;
  }
}

/** strtoul(s, NULL, 16) truncated to 32 bits, as a dotted quad. */
function hexAddr(s: string): string {
  const m = /^\s*[+-]?(?:0[xX])?([0-9a-fA-F]*)/.exec(s);
  let v = 0n;
  for (const c of m?.[1] ?? '') v = v * 16n + BigInt(parseInt(c, 16));
  if (s.trimStart().startsWith('-')) v = -v;
  const n = Number(BigInt.asUintN(32, v));
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

function parseAddr(s: string): Addr {
  const v6 = tryV6(s);
  if (v6 !== null) return { family: AF_INET6, text: v6 };
  if (isV4Text(s)) return { family: AF_INET, text: s };
  return { family: AF_INET, text: hexAddr(s) };
}

/** %hX: hex into an unsigned short; null when no digits. */
function scanHexShort(s: string): number | null {
  const m = /^[+-]?(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)/.exec(s);
  if (!m) return null;
  let v = BigInt('0x' + m[1]);
  if (s.startsWith('-')) v = -v;
  return Number(BigInt.asUintN(16, v));
}

function scanInt(s: string): number | null {
  const m = /^[+-]?\d+/.exec(s);
  if (!m) return null;
  return Number(BigInt.asIntN(32, BigInt(m[0])));
}

function pad2(n: number): string {
  const s = String(n);
  return s.length >= 2 ? s : '0' + s;
}

function connLine(line: string, f: ConnFormat): string | null {
  const tok = line.split(/[ \t\n\v\f\r]+/).filter((t) => t !== '');
  if (tok.length === 0) return null;
  // sscanf("%s %s %hX %s %hX %s %hX %s %d %s %s") stops at the first failed conversion.
  const protocol = at(tok, 0);
  const fields: (string | number)[] = [protocol];
  const kinds = ['s', 'x', 's', 'x', 's', 'x', 's', 'd', 's', 's'];
  for (let k = 0; k < kinds.length; k++) {
    const t = tok[k + 1];
    if (t === undefined) break;
    const kind = kinds[k];
    if (kind === 's') fields.push(t);
    else {
      const v = kind === 'x' ? scanHexShort(t) : scanInt(t);
      if (v === null) break;
      fields.push(v);
    }
  }
  const n = fields.length;
  const str = (i: number): string => (typeof fields[i] === 'string' ? (fields[i] as string) : '');
  const num = (i: number): number => (typeof fields[i] === 'number' ? (fields[i] as number) : 0);
  const proto = protocol === 'TCP' ? 6 : protocol === 'UDP' ? 17 : protocol === 'SCTP' ? 132 : 0;
  const c = parseAddr(str(1));
  // The virtual address is read in the client address's family.
  let v: Addr;
  if (c.family === AF_INET6) {
    const t = tryV6(str(3));
    v = { family: AF_INET6, text: t ?? '::' };
  } else if (isV4Text(str(1))) {
    v = isV4Text(str(3)) ? { family: AF_INET, text: str(3) } : { family: AF_INET, text: '0.0.0.0' };
  } else v = { family: AF_INET, text: hexAddr(str(3)) };
  const d = parseAddr(str(5));
  const cname = addrPortName(c.family, c.text, num(2), proto, f);
  const vname = addrPortName(v.family, v.text, num(4), proto, f);
  const dname = addrPortName(d.family, d.text, num(6), proto, f);
  const expires = num(8) >>> 0;
  const expire = `${pad2(Math.floor(expires / 60))}:${pad2(expires % 60)}`;
  if (f.persistentConn && n === 11) {
    return `${left(protocol, 3)} ${left(expire, 6)} ${left(str(7), 11)} ${left(cname, 18)} ${left(vname, 18)} ${left(dname, 16)} ${left(str(9), 18)} ${str(10)}\n`;
  }
  return `${left(protocol, 3)} ${left(expire, 6)} ${left(str(7), 11)} ${left(cname, 18)} ${left(vname, 18)} ${dname}\n`;
}

/** list_conn over the file's text; null when the file had no first line (ipvsadm exits 1). */
export function formatConnections(procText: string, f: ConnFormat): string | null {
  const chunks = fgetsChunks(procText);
  if (chunks.length === 0) return null;
  let out = 'IPVS connection entries\n';
  out += f.persistentConn
    ? `pro expire ${left('state', 11)} ${left('source', 18)} ${left('virtual', 18)} ${left('destination', 18)} ${left('pe name', 16)} pe_data\n`
    : `pro expire ${left('state', 11)} ${left('source', 18)} ${left('virtual', 18)} destination\n`;
  for (const line of chunks.slice(1)) {
    const l = connLine(line, f);
    if (l !== null) out += l;
  }
  return out;
}
