/** Leases through the controller's KubeClient: get (undefined when absent), create, update, delete. */
import type { KubeClient } from '../apply/kube-client.js';
import { isNotFound } from '../kube/api-status-error.js';
import type { LeaseObject } from './lease-record.js';

export interface LeaseApi {
  get(name: string): Promise<LeaseObject | undefined>;
  create(lease: LeaseObject): Promise<LeaseObject>;
  /** A compare-and-swap on metadata.resourceVersion: 409 Conflict when someone wrote first. */
  update(lease: LeaseObject): Promise<LeaseObject>;
  delete(name: string): Promise<void>;
}

export function leaseApi(kube: KubeClient, namespace: string): LeaseApi {
  const base = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  return {
    async get(name) {
      try {
        return await kube.get<LeaseObject>(`${base}/${name}`);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    create: (lease) => kube.create<LeaseObject>(base, lease),
    update: (lease) => kube.put<LeaseObject>(`${base}/${lease.metadata.name}`, lease),
    async delete(name) {
      try {
        await kube.delete(`${base}/${name}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
  };
}
