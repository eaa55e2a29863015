// ipset's restore and save syntax, pure. Restore input is run with -exist, so creating a
// set that exists, adding a member that is there and deleting one that is not are no-ops.
export type IpsetFamily = 'inet' | 'inet6';

export interface IpsetSpec {
  name: string;
  /** "hash:ip,port", "hash:ip,port,ip". */
  type: string;
  family: IpsetFamily;
  /** Most entries the set may hold; the kernel's default is 65536. */
  maxelem?: number;
}

/** Set names are at most 31 characters (IPSET_MAXNAMELEN - 1). */
export function checkSetName(name: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,31}$/.test(name)) throw new RangeError(`not an ipset name: ${name}`);
  return name;
}

export function createLine(s: IpsetSpec): string {
  const max = s.maxelem === undefined ? '' : ` maxelem ${s.maxelem}`;
  return `create ${checkSetName(s.name)} ${s.type} family ${s.family}${max}`;
}

export function addLine(set: string, entry: string): string {
  return `add ${checkSetName(set)} ${entry}`;
}

export function delLine(set: string, entry: string): string {
  return `del ${checkSetName(set)} ${entry}`;
}

export function flushLine(set: string): string {
  return `flush ${checkSetName(set)}`;
}

export function destroyLine(set: string): string {
  return `destroy ${checkSetName(set)}`;
}

/** The members of each set in `ipset save` output ("add NAME ENTRY" lines). */
export function parseIpsetSave(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const m = /^(create|add) (\S+)(?: (\S+))?/.exec(line);
    if (!m || m[2] === undefined) continue;
    let members = out.get(m[2]);
    if (!members) {
      members = new Set();
      out.set(m[2], members);
    }
    if (m[1] === 'add' && m[3] !== undefined) members.add(m[3]);
  }
  return out;
}
