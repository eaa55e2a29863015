// Kernel tests program IPVS and need the UML kernel; on the host they would find no
// IPVS and must fail loudly rather than skip.
import { UML_MARKER } from './uml.js';

export function inUml(): boolean {
  return process.env[UML_MARKER] === '1';
}

export function assertInUml(): void {
  if (!inUml()) {
    throw new Error(
      'kernel tests run inside User-Mode Linux: node dist/test/harness/uml-suite.js RESULTS.json',
    );
  }
}
