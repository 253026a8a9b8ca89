import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from './metrics.js';

describe('GatewayMetrics', () => {
  it('keeps the upstream error codes a backend sends to a bounded set of label values', async () => {
    const metrics = new GatewayMetrics();
    metrics.recordUpstreamError('sim/a', 'rate_limit_exceeded');
    metrics.recordUpstreamError('sim/a', 'Something Went Wrong: request 8f3c… failed');
    for (let index = 0; index < 200; index += 1) metrics.recordUpstreamError('sim/a', `code_${index}`);
    const text = await metrics.registry.metrics();
    const series = text.split('\n').filter((line) => line.startsWith('dosrouter_upstream_errors_total{'));
    expect(series).toContain('dosrouter_upstream_errors_total{deployment="sim/a",code="rate_limit_exceeded"} 1');
    // 63 more distinct codes fit; the rest, and the free text, count as `other`.
    expect(series).toContain(`dosrouter_upstream_errors_total{deployment="sim/a",code="other"} ${1 + 200 - 63}`);
    expect(series).toHaveLength(65);
  });
});
