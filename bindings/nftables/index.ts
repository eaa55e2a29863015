export * from './constants.js';
export * from './codec.js';
export { NftablesClient } from './client.js';
