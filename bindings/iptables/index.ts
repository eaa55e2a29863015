export { parseSave, type SavedTable } from './save.js';
export {
  iptablesBinary,
  iptablesRunner,
  type IptablesFamily,
  type IptablesFlavour,
  type IptablesRunner,
} from './run.js';
