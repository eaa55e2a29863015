// uapi linux/netfilter/nfnetlink.h and linux/netfilter/ipset/ip_set.h (+ ip_set_hash.h)
// values the ipset binding uses; the nfnetlink header's are the transport's.
export {
  NETLINK_NETFILTER,
  NFGENMSG_LEN,
  NFNETLINK_V0,
  NFPROTO_IPV4,
  NFPROTO_IPV6,
} from '../netlink/constants.js';
export const NFNL_SUBSYS_IPSET = 6;

/**
 * The protocol version sent. Kernels accept IPSET_PROTOCOL_MIN (6) to IPSET_PROTOCOL (7
 * since Linux 5.6); 6 is understood by every kernel with ipset over nfnetlink, and
 * nothing used here differs between the two.
 */
export const IPSET_PROTOCOL = 6;
export const IPSET_MAXNAMELEN = 32;

export const IPSET_CMD_CREATE = 2;
export const IPSET_CMD_DESTROY = 3;
export const IPSET_CMD_FLUSH = 4;
export const IPSET_CMD_SWAP = 6;
export const IPSET_CMD_LIST = 7;
export const IPSET_CMD_ADD = 9;
export const IPSET_CMD_DEL = 10;
export const IPSET_CMD_TYPE = 13;

// Command level.
export const IPSET_ATTR_PROTOCOL = 1;
export const IPSET_ATTR_SETNAME = 2;
export const IPSET_ATTR_TYPENAME = 3;
export const IPSET_ATTR_SETNAME2 = 3;
export const IPSET_ATTR_REVISION = 4;
export const IPSET_ATTR_FAMILY = 5;
export const IPSET_ATTR_FLAGS = 6;
export const IPSET_ATTR_DATA = 7;
export const IPSET_ATTR_ADT = 8;
export const IPSET_ATTR_REVISION_MIN = 10;

// CADT level (inside IPSET_ATTR_DATA).
export const IPSET_ATTR_IP = 1;
export const IPSET_ATTR_PORT = 4;
export const IPSET_ATTR_PROTO = 7;
export const IPSET_ATTR_HASHSIZE = 18;
export const IPSET_ATTR_MAXELEM = 19;
export const IPSET_ATTR_ELEMENTS = 24;
export const IPSET_ATTR_REFERENCES = 25;
export const IPSET_ATTR_IP2 = 20;

// Inside IPSET_ATTR_IP / IPSET_ATTR_IP2.
export const IPSET_ATTR_IPADDR_IPV4 = 1;
export const IPSET_ATTR_IPADDR_IPV6 = 2;

// IPSET_ATTR_FLAGS of a LIST request.
export const IPSET_FLAG_LIST_SETNAME = 1 << 1;
export const IPSET_FLAG_LIST_HEADER = 1 << 2;

/** nfgen_family of every request, as the ipset tool sends it. */
export const AF_INET = 2;

/**
 * Kernel error codes above the errno range (enum ipset_errno; from 4352 on the hash types'
 * own, ip_set_hash.h: only hash sets are used here).
 */
export const IPSET_ERRORS: ReadonlyMap<number, string> = new Map([
  [
    4097,
    'the kernel refused the attributes (IPSET_ERR_PROTOCOL: an address of the other family, or a protocol mismatch)',
  ],
  [4098, 'no such set type'],
  [4099, 'the kernel holds the maximum number of sets'],
  [4100, 'the set is in use by a kernel component'],
  [4101, 'the second set does not exist'],
  [4102, 'the sets have different types'],
  [4103, 'a set of that name exists with other parameters, or the element exists'],
  [4104, 'invalid CIDR'],
  [4105, 'invalid netmask'],
  [4106, 'the address family does not match the set'],
  [4107, 'timeout is not supported by the set'],
  [4108, 'the set is referenced and cannot be destroyed'],
  [4109, 'invalid IPv4 address'],
  [4110, 'invalid IPv6 address'],
  [4111, 'counters are not supported by the set'],
  [4352, 'the set is full (maxelem reached)'],
  [4353, 'null-valued element'],
  [4354, 'invalid protocol'],
  [4355, 'the protocol is missing'],
  [4356, 'ranges are not supported by the set'],
  [4357, 'invalid range'],
]);
