export * from './constants.js';
export * from './codec.js';
export { RtnlClient, type AddressChange } from './client.js';
