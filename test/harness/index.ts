// The test harness: UML boots, namespaces, echo backends and the counting client.
export { run, CommandError, type RunOptions, type RunResult } from './exec.js';
export {
  runInUml,
  umlUnavailableReason,
  UmlError,
  UML_MARKER,
  type UmlRunOptions,
  type UmlRunResult,
} from './uml.js';
export { inUml, assertInUml } from './in-uml.js';
export { Netns, vethPair, deleteAllNetns, listNetns, sweepStaleNetns } from './netns.js';
export { startEcho, stopAllEcho, type EchoBackend, type EchoOptions } from './echo.js';
export { runClient, type ClientOptions, type ClientReport } from './client.js';
export { buildLab, type Lab, type LabBackend, type LabOptions } from './topology.js';
