// Pure ipvsadm 1.31 renderings of an IPVS snapshot.
export * from './snapshot.js';
export * from './names.js';
export * from './sort.js';
export * from './save.js';
export * from './list.js';
export * from './conn.js';
export * from './misc.js';
export * from './usage.js';
export * from './flags.js';
export { ntop, ntop6, dottedMask } from './inet.js';
