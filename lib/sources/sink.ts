// What a source feeds: the Services, EndpointSlices and Node it sees, as they change.
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';

export interface ObjectSink {
  upsertService(service: V1Service): void;
  removeService(namespace: string, name: string): void;
  upsertSlice(slice: V1EndpointSlice): void;
  removeSlice(namespace: string, name: string): void;
  /** The node this instance runs on; undefined when it is not (or no longer) known. */
  setNode?(node: V1Node | undefined): void;
}

export { SERVICE_NAME_LABEL } from '../model/endpoints.js';

export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
