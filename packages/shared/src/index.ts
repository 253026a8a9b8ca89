export { configSchema, backendSchema, backendModelSchema, capabilitySchema, timeoutsSchema, parseByteSize } from './config/schema.js';
export type { GatewayConfig, BackendConfig, BackendModelConfig, Capability, Timeouts, Pricing, SimulatedBackendConfig } from './config/schema.js';
export { parseConfig, loadConfigFile, ConfigError } from './config/load.js';
export { interpolateEnvironment } from './config/interpolate.js';
export { ModelCatalog } from './catalog/catalog.js';
export type { Deployment, ModelGroup } from './catalog/catalog.js';
export {
  GatewayError,
  isRetryableStatus,
  errorTypeForStatus,
  invalidRequest,
  modelNotFound,
  routeNotFound,
  payloadTooLarge,
  unsupportedMediaType,
  upstreamUnreachable,
  upstreamTimeout,
  internalError,
  serviceUnavailable,
} from './errors/gateway-error.js';
export type { GatewayErrorOptions, OpenAIErrorBody, OpenAIErrorType } from './errors/gateway-error.js';
export { createLogger, flushLogger } from './logger/logger.js';
export type { Logger, LogLevel, LoggerOptions } from './logger/logger.js';
export { weightedStrategy, effectiveWeight } from './routing/strategies/weighted.js';
export type { RandomSource, RoutingSnapshot, Strategy, StrategyContext } from './routing/types.js';
