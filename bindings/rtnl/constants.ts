// rtnetlink names from the uapi headers (linux/rtnetlink.h, if_link.h, if_addr.h, if.h).
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

/** sizeof(struct ifinfomsg) and sizeof(struct ifaddrmsg). */
export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
/** sizeof(struct rtmsg). */
export const RTMSG_LEN = 12;

export const IFLA_IFNAME = 3;
export const IFLA_LINKINFO = 18;
export const IFLA_INFO_KIND = 1;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_FLAGS = 8;

export const IFA_F_NODAD = 0x02;
export const IFA_F_PERMANENT = 0x80;

export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_TABLE = 15;

export const RT_TABLE_LOCAL = 255;
export const RTN_LOCAL = 2;
export const RTPROT_KERNEL = 2;
export const RTPROT_STATIC = 4;

export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;

export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;

export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;

/** Longest interface name the kernel takes (IFNAMSIZ − 1). */
export const IFNAMSIZ = 16;
