// IPVS through generic netlink: types, constants, codec, client.
export * from './types.js';
export * from './constants.js';
export {
  type IpvsServiceId,
  type IpvsDestinationId,
  describeService,
  protocolName,
  decodeService,
  decodeDestination,
  writeService,
  writeServiceId,
  writeServiceNest,
  writeDestination,
  writeDestinationId,
  writeTimeouts,
  writeDaemon,
} from './codec.js';
export { canonicalAddress, formatAddress, parseAddress } from './address.js';
export { hostPort } from '../inet/index.js';
export {
  IpvsClient,
  type IpvsOp,
  type IpvsOpResult,
  type IpvsClientOptions,
  type DumpOptions,
} from './client.js';
export {
  NetlinkError,
  NetlinkDecodeError,
  NetlinkRepliesLostError,
  NetlinkTimeoutError,
  NetlinkClosedError,
  NetlinkSendError,
} from '../netlink/errors.js';
