/** Requests this replica has in flight per deployment; published to the cluster by the poll. */
export class InFlightCounts {
  /** Live counts; routing snapshots in embedded mode share this map. */
  readonly counts: ReadonlyMap<string, number> = new Map<string, number>();
  private get mutable(): Map<string, number> {
    return this.counts as Map<string, number>;
  }

  increment(deploymentId: string): void {
    this.mutable.set(deploymentId, (this.counts.get(deploymentId) ?? 0) + 1);
  }

  decrement(deploymentId: string): void {
    const next = (this.counts.get(deploymentId) ?? 0) - 1;
    if (next > 0) this.mutable.set(deploymentId, next);
    else this.mutable.delete(deploymentId);
  }

  entries(): [string, number][] {
    return [...this.counts.entries()];
  }
}
