export { startGateway } from './gateway.js';
export type { GatewayOptions, RunningGateway } from './gateway.js';
export { createApp } from './app.js';
export type { AppDependencies, GatewayApp } from './app.js';
export { GatewayMetrics } from './telemetry/metrics.js';
export { shouldClientRetry } from './middleware/error-handler.js';
