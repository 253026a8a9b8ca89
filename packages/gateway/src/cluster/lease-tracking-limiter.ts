import type { AdmissionRequest, AdmissionResult, Limiter, LimitScope, Release } from '@dosrouter/shared';

/**
 * Remembers which admitted requests hold concurrency slots, so that the poll can renew their leases while
 * they run (a stream may outlive a lease); a replica that dies stops renewing and its slots free by themselves.
 */
export class LeaseTrackingLimiter implements Limiter {
  private readonly active = new Map<string, string[]>();

  constructor(private readonly inner: Limiter) {}

  async admit(request: AdmissionRequest): Promise<AdmissionResult> {
    const result = await this.inner.admit(request);
    if (result.admitted) {
      const held = [request.key, request.deployments[result.deploymentIndex]]
        .filter((scope) => scope?.limits.concurrency)
        .map((scope) => scope!.id);
      if (held.length > 0) this.active.set(request.requestId, [...(this.active.get(request.requestId) ?? []), ...held]);
    }
    return result;
  }

  async release(release: Release): Promise<void> {
    this.active.delete(release.requestId);
    await this.inner.release(release);
  }

  concurrencyRoom(scope: LimitScope): number | Promise<number> {
    return this.inner.concurrencyRoom(scope);
  }

  async renew(): Promise<void> {
    const requests = [...this.active].map(([requestId, scopeIds]) => ({ requestId, scopeIds }));
    if (requests.length > 0) await this.inner.renew(requests);
  }
}
