export * from './spec.js';
export * from './constants.js';
export * from './codec.js';
export {
  IpsetClient,
  TOOL_REVISIONS,
  type IpsetChange,
  type IpsetElements,
  type IpsetInfo,
  type IpsetOps,
  type IpsetResult,
} from './client.js';
