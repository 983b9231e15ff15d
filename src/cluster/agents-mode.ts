// What `fulcrum serve --dataplane agents` runs instead of HAProxy: the placement loop, and the cluster tables as the
// API's source of instances and backend stats. The agents (`fulcrum agent`) run the data planes.
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { ClusterInstances, type InstanceSource } from './instances.js';
import { Placer } from './placer.js';
import { PostgresCluster } from './postgres-cluster.js';

export interface AgentsControl {
  instances: InstanceSource;
  close(): Promise<void>;
}

export async function startAgentsControl(storeUrl: string | null, store: Store, log: Logger): Promise<AgentsControl> {
  if (!storeUrl) throw new Error('--dataplane agents needs --store postgres://… (the agents share it; SQLite has no nodes)');
  const cluster = await PostgresCluster.open(storeUrl);
  const placer = new Placer(store, cluster, log);
  placer.start();
  return {
    instances: new ClusterInstances(cluster),
    async close() {
      await placer.stop();
      await cluster.close();
    },
  };
}
