// What describes a set: its name, type, family and size.
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
