export * from './format.js';
export { OwnerMapWriter, type OwnerWriterOptions } from './writer.js';
export { readOwnerMap, ownerSuffix, type OwnersRead } from './read.js';
