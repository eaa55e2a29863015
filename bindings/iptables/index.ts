export { parseSave, type RuleCounters, type SavedTable } from './save.js';
export {
  iptablesBinary,
  iptablesName,
  iptablesRunner,
  iptablesVariant,
  type IptablesFamily,
  type IptablesFlavour,
  type IptablesRunner,
} from './run.js';
export { commandFlavour, legacyTables, legacyTablesFile, resolveCommand } from './probe.js';
