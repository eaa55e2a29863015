// The one text codec for IP addresses in kube-ipvs: glibc's inet_pton and inet_ntop,
// reproduced. Every layer that turns an address into text or back (the IPVS bindings, the
// model's keys, the config, lvsadm and render output) goes through this file, so that an
// address has one canonical text everywhere: the one ipvsadm prints and a kernel dump gives
// back, which the reconcile loop compares with the desired state.
//
// It lives in bindings/ because it is the bottom layer: the bindings may not import lib/,
// and inet_ntop's text is a fact of the C library ipvsadm is built on, not of Kubernetes.
//
// Canonical text: IPv4 dotted decimal; IPv6 lower-case hex with the longest run (first on a
// tie) of two or more zero words written "::" (RFC 5952), and, as glibc does, the last 32
// bits dotted for IPv4-compatible (::/96 except :: and ::1, e.g. "::1.2.3.4") and
// IPv4-mapped (::ffff:0:0/96, e.g. "::ffff:1.2.3.4") addresses.

const DOT = 46;
const COLON = 58;

function digit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : -1;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** pton4's octets until the text is known good (one buffer: the parse is synchronous). */
const TMP4 = new Uint8Array(4);

/**
 * glibc inet_pton4 over text[start, end): four decimal octets, no leading zero ("01" is
 * refused), nothing else. Writes 4 bytes at `off`; false (and `out` untouched) on failure.
 */
function pton4(text: string, start: number, end: number, out: Uint8Array, off: number): boolean {
  let octets = 0;
  let sawDigit = false;
  let cur = 0;
  const tmp = TMP4;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    const d = digit(c);
    if (d >= 0) {
      if (sawDigit && cur === 0) return false;
      cur = cur * 10 + d;
      if (cur > 255) return false;
      if (!sawDigit) {
        if (++octets > 4) return false;
        sawDigit = true;
      }
      tmp[octets - 1] = cur;
    } else if (c === DOT && sawDigit) {
      if (octets === 4) return false;
      cur = 0;
      sawDigit = false;
    } else return false;
  }
  if (octets < 4 || !sawDigit) return false;
  for (let i = 0; i < 4; i++) out[off + i] = tmp[i] as number;
  return true;
}

/**
 * glibc inet_pton6: hex words of 1-4 digits, at most one "::" standing for at least one
 * zero word, an optional dotted quad as the last 32 bits; no zone ("%eth0"). Writes 16 bytes
 * at `off`; false (and `out` untouched) on failure.
 */
function pton6(text: string, out: Uint8Array, off: number): boolean {
  const end = text.length;
  if (end === 0) return false;
  const tmp = new Uint8Array(16);
  let tp = 0;
  let colonp = -1;
  let i = 0;
  if (text.charCodeAt(0) === COLON) {
    if (end < 2 || text.charCodeAt(1) !== COLON) return false;
    i = 1;
  }
  let curtok = i;
  let digits = 0;
  let val = 0;
  while (i < end) {
    const c = text.charCodeAt(i++);
    const h = hexDigit(c);
    if (h >= 0) {
      if (digits === 4) return false;
      val = (val << 4) | h;
      digits++;
      continue;
    }
    if (c === COLON) {
      curtok = i;
      if (digits === 0) {
        if (colonp !== -1) return false;
        colonp = tp;
        continue;
      } else if (i === end) return false;
      if (tp + 2 > 16) return false;
      tmp[tp++] = val >> 8;
      tmp[tp++] = val & 0xff;
      digits = 0;
      val = 0;
      continue;
    }
    if (c === DOT && tp + 4 <= 16 && pton4(text, curtok, end, tmp, tp)) {
      tp += 4;
      digits = 0;
      break;
    }
    return false;
  }
  if (digits > 0) {
    if (tp + 2 > 16) return false;
    tmp[tp++] = val >> 8;
    tmp[tp++] = val & 0xff;
  }
  if (colonp !== -1) {
    if (tp === 16) return false; // "::" would stand for no word at all
    const n = tp - colonp;
    tmp.copyWithin(16 - n, colonp, tp);
    tmp.fill(0, colonp, 16 - n);
    tp = 16;
  }
  if (tp !== 16) return false;
  out.set(tmp, off);
  return true;
}

/** inet_pton(AF_INET) into out[off..off+4); false when `text` is not a dotted quad. */
export function writeInet4(text: string, out: Uint8Array, off = 0): boolean {
  return pton4(text, 0, text.length, out, off);
}

/** inet_pton(AF_INET6) into out[off..off+16); false when `text` is not an IPv6 address. */
export function writeInet6(text: string, out: Uint8Array, off = 0): boolean {
  return pton6(text, out, off);
}

export function parseInet4(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  return writeInet4(text, out) ? out : undefined;
}

export function parseInet6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  return writeInet6(text, out) ? out : undefined;
}

/** Either family: 4 bytes for IPv4, 16 for IPv6, undefined for anything else. */
export function parseInet(text: string): Uint8Array | undefined {
  return parseInet4(text) ?? (text.includes(':') ? parseInet6(text) : undefined);
}

/** inet_ntop(AF_INET) of b[off..off+4). */
export function formatInet4(b: Uint8Array, off = 0): string {
  return `${b[off] as number}.${b[off + 1] as number}.${b[off + 2] as number}.${b[off + 3] as number}`;
}

/** inet_ntop(AF_INET6) of b[off..off+16), as glibc prints it (see the top of this file). */
export function formatInet6(b: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++)
    w.push(((b[off + i * 2] as number) << 8) | (b[off + i * 2 + 1] as number));
  // The longest run of zero words, the first on a tie; runs of one word stay "0".
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d): the last 32 bits dotted.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += formatInet4(b, off + 12);
      break;
    }
    out += (w[i] as number).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** inet_ntop of a 4-byte (IPv4) or 16-byte (IPv6) address. */
export function formatInet(b: Uint8Array): string {
  if (b.length === 4) return formatInet4(b);
  if (b.length === 16) return formatInet6(b);
  throw new RangeError(`an IP address has 4 or 16 bytes, not ${b.length}`);
}

/** The canonical text of an address of either family, or undefined when it is not one. */
export function canonicalInet(text: string): string | undefined {
  const b = parseInet(text);
  return b ? formatInet(b) : undefined;
}

/** "10.0.0.1:80" or "[fd00::1]:80", as ipvsadm prints an address with its port. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
