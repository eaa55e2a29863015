// Validates rendered objects against the Kubernetes OpenAPI schema, through the models of the
// kubernetes-models packages (and prometheus-operator's for the ServiceMonitor). These check
// types, formats and required fields; like the API server's default they let unknown fields
// through, so the chart tests also assert the fields that matter by path.
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { K8sObject } from './helm.js';

type Validator = (o: K8sObject) => void;

function model<T>(Model: new (data: T) => { validate(): void }): Validator {
  return (o) => new Model(o as unknown as T).validate();
}

const MODELS: Record<string, Validator> = {
  'v1/ConfigMap': model(ConfigMap),
  'v1/Service': model(Service),
  'v1/ServiceAccount': model(ServiceAccount),
  'apps/v1/DaemonSet': model(DaemonSet),
  'rbac.authorization.k8s.io/v1/ClusterRole': model(ClusterRole),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': model(ClusterRoleBinding),
  'monitoring.coreos.com/v1/ServiceMonitor': model(ServiceMonitor),
};

/** Throws with the schema's complaint; an object of a kind without a model is an error too. */
export function validateObject(o: K8sObject): void {
  const key = `${o.apiVersion}/${o.kind}`;
  const validate = MODELS[key];
  if (!validate) throw new Error(`no schema model for ${key}`);
  try {
    validate(o);
  } catch (e) {
    throw new Error(`${key} ${o.metadata?.name}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}
