export * from './text.js';
export { ipsetRunner, type IpsetRunner } from './run.js';
