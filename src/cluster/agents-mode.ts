// What `fulcrum serve --dataplane agents` runs instead of HAProxy: the placement loop, a data plane whose applies wait
// for the nodes, and the cluster tables as the API's source of instances and backend stats. The agents (`fulcrum agent`) run the data planes.
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { AgentsDataPlane } from './agents-dataplane.js';
import { ClusterInstances, type InstanceSource } from './instances.js';
import { Placer } from './placer.js';
import { PostgresCluster } from './postgres-cluster.js';

export interface AgentsControl {
  instances: InstanceSource;
  /** The reconciler's data plane: an apply waits for the nodes (agents-dataplane.ts). */
  dataPlane: AgentsDataPlane;
  close(): Promise<void>;
}

/** `reapply(lbId)` is asked to apply the LB again when nodes settle an LB whose last apply timed out. */
export async function startAgentsControl(storeUrl: string | null, store: Store, log: Logger,
  reapply: (lbId: string) => void): Promise<AgentsControl> {
  if (!storeUrl) throw new Error('--dataplane agents needs --store postgres://… (the agents share it; SQLite has no nodes)');
  const cluster = await PostgresCluster.open(storeUrl);
  const dataPlane = new AgentsDataPlane(cluster, reapply);
  try {
    await dataPlane.start();
  } catch (e) {
    await cluster.close();
    throw e;
  }
  const placer = new Placer(store, cluster, log);
  placer.start();
  return {
    instances: new ClusterInstances(cluster), dataPlane,
    async close() {
      await placer.stop();
      await cluster.close();
    },
  };
}
