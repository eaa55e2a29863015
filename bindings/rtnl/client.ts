// The dummy interface, the local routes through it that make virtual addresses local,
// and the node's addresses, over rtnetlink (NETLINK_ROUTE) on the same socket addon as
// IPVS: no `ip` command.
import type { MessageResult, NetlinkConnection, Request } from '../netlink/connection.js';
import { NETLINK_ROUTE } from '../netlink/constants.js';
import { NetlinkError } from '../netlink/errors.js';
import { type OpenOptions, openConnection } from '../netlink/open.js';
import {
  type InterfaceAddress,
  type Link,
  type LocalRoute,
  decodeAddress,
  decodeLink,
  decodeLocalRoute,
  ifaddrDumpMsg,
  ifaddrmsg,
  ifinfomsg,
  linkKindAttr,
  linkNameAttr,
  localRouteMsg,
  routeDumpMsg,
} from './codec.js';
import * as C from './constants.js';

const ENODEV = 19;

const MESSAGE_NAMES: Readonly<Record<number, string>> = {
  [C.RTM_NEWADDR]: 'RTM_NEWADDR',
  [C.RTM_DELADDR]: 'RTM_DELADDR',
  [C.RTM_GETADDR]: 'RTM_GETADDR',
  [C.RTM_NEWROUTE]: 'RTM_NEWROUTE',
  [C.RTM_DELROUTE]: 'RTM_DELROUTE',
  [C.RTM_GETROUTE]: 'RTM_GETROUTE',
};
const ADDRESS_MESSAGES = { add: C.RTM_NEWADDR, delete: C.RTM_DELADDR, what: '' };
const LOCAL_ROUTE_MESSAGES = { add: C.RTM_NEWROUTE, delete: C.RTM_DELROUTE, what: 'local ' };

/** A host address on interface `index`, or a local host route through it. */
export type AddressChange = { op: 'add' | 'delete'; index: number; address: string };

export class RtnlClient {
  private constructor(readonly connection: NetlinkConnection) {}

  static open(options: OpenOptions = {}): RtnlClient {
    return new RtnlClient(openConnection(NETLINK_ROUTE, options));
  }

  close(): void {
    this.connection.close();
  }

  /** The link of that name; undefined when there is none. */
  async link(name: string): Promise<Link | undefined> {
    try {
      const [m] = await this.connection.request({
        type: C.RTM_GETLINK,
        payload: ifinfomsg(0, 0, 0, [linkNameAttr(name)]),
        describe: () => `RTM_GETLINK ${name}`,
      });
      return m ? decodeLink(m.payload) : undefined;
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === ENODEV) return undefined;
      throw e;
    }
  }

  async links(): Promise<Link[]> {
    const ms = await this.connection.dump({
      type: C.RTM_GETLINK,
      payload: ifinfomsg(0, 0, 0),
      describe: () => 'RTM_GETLINK dump',
    });
    return ms.filter((m) => m.type === C.RTM_NEWLINK).map((m) => decodeLink(m.payload));
  }

  /** A dummy interface of that name, created if missing, and up. */
  async ensureDummy(name: string): Promise<Link> {
    let link = await this.link(name);
    if (!link) {
      await this.connection.request({
        type: C.RTM_NEWLINK,
        flags: C.NLM_F_CREATE | C.NLM_F_EXCL,
        payload: ifinfomsg(0, 0, 0, [linkNameAttr(name), linkKindAttr('dummy')]),
        describe: () => `RTM_NEWLINK dummy ${name}`,
      });
      link = await this.link(name);
      if (!link) throw new Error(`interface ${name} vanished right after it was created`);
    }
    if ((link.flags & C.IFF_UP) === 0) {
      await this.connection.request({
        type: C.RTM_NEWLINK,
        payload: ifinfomsg(link.index, C.IFF_UP, C.IFF_UP),
        describe: () => `RTM_NEWLINK ${name} up`,
      });
    }
    return link;
  }

  /** Deletes the link; false when there was none. */
  async deleteLink(name: string): Promise<boolean> {
    const link = await this.link(name);
    if (!link) return false;
    await this.connection.request({
      type: C.RTM_DELLINK,
      payload: ifinfomsg(link.index, 0, 0),
      describe: () => `RTM_DELLINK ${name}`,
    });
    return true;
  }

  /** Every IPv4 and IPv6 address on the host, with its interface index. */
  addresses(): Promise<InterfaceAddress[]> {
    return this.dumpDecoded(C.RTM_GETADDR, ifaddrDumpMsg(), C.RTM_NEWADDR, decodeAddress);
  }

  /** Every route of type local, IPv4 and IPv6, of every table. */
  localRoutes(): Promise<LocalRoute[]> {
    return this.dumpDecoded(C.RTM_GETROUTE, routeDumpMsg(), C.RTM_NEWROUTE, decodeLocalRoute);
  }

  /** Adds and deletes host addresses, many per datagram; one result per change. */
  changeAddresses(changes: readonly AddressChange[]): Promise<MessageResult[]> {
    return this.change(changes, ADDRESS_MESSAGES, (c) => ifaddrmsg(c.index, c.address));
  }

  /** Adds and deletes local host routes, many per datagram; one result per change. */
  changeLocalRoutes(changes: readonly AddressChange[]): Promise<MessageResult[]> {
    return this.change(changes, LOCAL_ROUTE_MESSAGES, (c) => localRouteMsg(c.index, c.address));
  }

  /** A dump's replies of one type, decoded; what the decoder turns down is left out. */
  private async dumpDecoded<T>(
    type: number,
    payload: Buffer,
    reply: number,
    decode: (payload: Buffer) => T | undefined,
  ): Promise<T[]> {
    const ms = await this.connection.dump({
      type,
      payload,
      describe: () => `${MESSAGE_NAMES[type] ?? type} dump`,
    });
    const out: T[] = [];
    for (const m of ms) {
      if (m.type !== reply) continue;
      const d = decode(m.payload);
      if (d !== undefined) out.push(d);
    }
    return out;
  }

  private change(
    changes: readonly AddressChange[],
    types: { add: number; delete: number; what: string },
    payload: (c: AddressChange) => Buffer,
  ): Promise<MessageResult[]> {
    const reqs: Request[] = changes.map((c) => ({
      type: types[c.op],
      flags: c.op === 'add' ? C.NLM_F_CREATE | C.NLM_F_REPLACE : 0,
      payload: payload(c),
      describe: () => `${MESSAGE_NAMES[types[c.op]]} ${types.what}${c.address}`,
    }));
    return this.connection.batch(reqs);
  }
}
