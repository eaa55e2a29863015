// The netlink transport: socket, framing, attributes, request/reply, generic netlink.
export * from './constants.js';
export * from './errors.js';
export * from './attributes.js';
export * from './message.js';
export * from './connection.js';
export * from './genl.js';
export * from './writer.js';
export * from './socket.js';
export { openConnection } from './open.js';
