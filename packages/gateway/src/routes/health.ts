import type { Express, Request, RequestHandler, Response } from 'express';
import { revisionsOf, type ReplicaInfo } from '@dosrouter/shared';
import type { ReplicaDirectory } from '../cluster/replica-info.js';
import type { Readiness } from '../lifecycle/readiness.js';

export interface HealthRoutesOptions {
  readonly readiness: Readiness;
  readonly replicas: ReplicaDirectory;
  /** Guards `/readyz/detail` (it names the replicas): the admin key, as `/metrics`. */
  readonly detailGuard?: RequestHandler;
}

/**
 * `/healthz`: the process is alive. `/readyz`: it should get traffic (503 while starting or draining).
 * `/readyz/detail`: the same status, this replica's config revision and every revision the cluster's live gateways
 * and probers run, so that a config change rolled out to some replicas only is visible.
 */
export function registerHealthRoutes(app: Express, { readiness, replicas, detailGuard }: HealthRoutesOptions): void {
  app.get('/healthz', function healthz(_request: Request, response: Response) {
    response.json({ status: 'ok' });
  });
  app.get('/readyz', function readyz(_request: Request, response: Response) {
    response.status(readiness.ready ? 200 : 503).json({ status: readiness.state });
  });
  app.get('/readyz/detail', ...(detailGuard ? [detailGuard] : []), async function readyzDetail(_request: Request, response: Response) {
    let infos: ReplicaInfo[] | undefined;
    let clusterError: string | undefined;
    try {
      infos = await replicas.readReplicaInfos();
    } catch (error) {
      // Redis down: this replica still says what it runs.
      clusterError = error instanceof Error ? error.message : String(error);
    }
    const own = replicas.own;
    response
      .status(readiness.ready ? 200 : 503)
      .setHeader('cache-control', 'no-store')
      .json({
        status: readiness.state,
        replica: own.id,
        configRevision: own.configRevision,
        ...(own.configReload === undefined ? {} : { configReload: own.configReload }),
        ...(infos === undefined ? { clusterError } : { revisions: revisionsOf(infos), replicas: infos }),
      });
  });
}
