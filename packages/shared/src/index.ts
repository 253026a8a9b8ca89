export { configSchema, backendSchema, backendHttp2Schema, backendModelSchema, capabilitySchema, timeoutsSchema, probeSchema, probeKindSchema, parseByteSize, responseCacheSchema, cacheRequestModes } from './config/schema.js';
export { resolveProbeSettings } from './config/probe-settings.js';
export { backendHeaders, USER_AGENT } from './config/backend-headers.js';
export { ANTHROPIC_BASE_URL, ANTHROPIC_VERSION, DEFAULT_API_KEY_HEADER, GEMINI_BASE_URL, backendKindSchema, operationPath } from './config/backend-kind.js';
export type { BackendApi, BackendKind, BackendOperation } from './config/backend-kind.js';
export type { ProbeSettings } from './config/probe-settings.js';
export type { ResponseCacheConfig } from './config/schema.js';
export type { AnthropicDeploymentConfig, GatewayConfig, BackendConfig, BackendHttp2Config, BackendModelConfig, Capability, Timeouts, Pricing, CacheWritePricing, SimulatedBackendConfig, ProbeConfig, ProbeOverrides } from './config/schema.js';
export { parseConfig, loadConfigFile, ConfigError } from './config/load.js';
export type { ParseOptions } from './config/load.js';
export { readSecretFile } from './config/secret-file.js';
export { withEnvironmentOverrides, hasRedis, parseEntryArguments, loadProcessConfig, configForMain, DEFAULT_DATA_DIR } from './config/environment.js';
export type { EntryArguments, ProcessConfig } from './config/environment.js';
export { adminKeyFromEnvironment } from './config/admin-key.js';
export { formatConfigPath } from './config/config-path.js';
export { configRevision } from './config/revision.js';
export { RESTART_ONLY_SETTINGS, liveChanges } from './config/restart-only.js';
export type { LiveChanges } from './config/restart-only.js';
export { watchConfigFile } from './config/config-watch.js';
export { ConfigReloads } from './config/config-reloads.js';
export { holdReloadSignal, startReloadTriggers, type HeldReloadSignal } from './config/reload-triggers.js';
export type { ReloadTriggersOptions } from './config/reload-triggers.js';
export type { ConfigReloadsOptions, ReloadTrigger } from './config/config-reloads.js';
export type { ConfigWatchOptions } from './config/config-watch.js';
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
  bodyTooComplex,
  unsupportedMediaType,
  upstreamUnreachable,
  upstreamTimeout,
  internalError,
} from './errors/gateway-error.js';
export type { GatewayErrorOptions, OpenAIErrorBody, OpenAIErrorType } from './errors/gateway-error.js';
export { createLogger, flushLogger, loggerDestination } from './logger/logger.js';
export { FdDestination } from './logger/fd-destination.js';
export type { FdDestinationOptions } from './logger/fd-destination.js';
export type { Logger, LogLevel, LoggerOptions } from './logger/logger.js';
export { weightedStrategy, effectiveWeight } from './routing/strategies/weighted.js';
export { EMPTY_SNAPSHOT } from './routing/types.js';
export type { RandomSource, RoutingSnapshot, Strategy, StrategyContext } from './routing/types.js';
export { rateLimitsSchema, breakerSchema } from './config/schema.js';
export type { BreakerConfig } from './config/schema.js';
export { RedisKeys, KEY_SCHEMA_VERSION } from './state/keys.js';
export {
  DOSROUTER_VERSION,
  OwnReplicaInfo,
  REPLICA_INFO_SCHEMA_VERSION,
  deleteReplicaInfo,
  parseReplicaInfo,
  readReplicaInfos,
  revisionsOf,
  sortReplicaInfos,
  writeReplicaInfo,
} from './state/replica-info.js';
export type { ConfigReloadStatus, ReplicaInfo, ReplicaRole } from './state/replica-info.js';
export { LIMIT_WINDOW_MS, hasLimits } from './state/limits.js';
export type { RateLimits, LimitScope, LimitKind, WindowStatus, AdmissionRequest, AdmissionResult, Release } from './state/limits.js';
export type { Limiter } from './state/limiter.js';
export { MemoryLimiter } from './state/memory/memory-limiter.js';
export { MemoryStats } from './state/memory/memory-stats.js';
export { RedisLimiter } from './state/redis/redis-limiter.js';
export { RedisStats } from './state/redis/redis-stats.js';
export { RedisCacheStore } from './state/redis/redis-cache-store.js';
export { MemoryCacheStore } from './state/memory/memory-cache-store.js';
export type { CacheStore, CacheEntryWrite, CachePutResult } from './state/cache-store.js';
export { RedisBreakerStore } from './state/redis/redis-breakers.js';
export { connectRedis, connectSubscriber, connectBackgroundRedis, redisConnectionSettings } from './state/redis/connection.js';
export type { RedisConnectionConfig, RedisClient } from './state/redis/connection.js';
export { registerScripts, scriptSource } from './state/redis/scripts.js';
export type { ScriptCommands, ScriptName } from './state/redis/scripts.js';
export { RedisHealth } from './state/redis-health.js';
export { ResilientLimiter } from './state/resilient-limiter.js';
export { ReplicaShare } from './state/replica-share.js';
export { LimitsUnavailableError, LimiterFailedError } from './state/limiter-errors.js';
export type { CancellableLimiter, ResilientLimiterOptions, WithoutRedis } from './state/resilient-limiter.js';
export { redisFailureKind } from './state/redis/redis-failure.js';
export type { RedisFailureKind } from './state/redis/redis-failure.js';
export type { BreakerEvent, BreakerStore } from './state/breakers.js';
export {
  STATS_BUCKET_MS,
  STATS_HORIZON_MS,
  ROUTING_STATS_WINDOW_MS,
  summarize,
  bucketStart,
  bucketsInWindow,
} from './state/rolling-stats.js';
export type { StatsSample, StatsStore, DeploymentStats, StatsTotals } from './state/rolling-stats.js';
export { HEALTH_STATES, initialHealth, isHealthState, parseDeploymentHealth } from './routing/weights/deployment-health.js';
export type { DeploymentHealth, HealthState } from './routing/weights/deployment-health.js';
export { DEFAULT_WEIGHT_POLICY, createWeightPolicy, weightPolicyProblem } from './routing/weights/weight-policy.js';
export type { WeightPolicy } from './routing/weights/weight-policy.js';
export { nextHealth } from './routing/weights/next-health.js';
export type { HealthInput, ProbeOutcome } from './routing/weights/next-health.js';
export { computeWeights, weightedDeployments } from './routing/weights/compute-weights.js';
export { passiveWeights } from './routing/weights/passive-weights.js';
export type { ComputedWeights, DeploymentObservation, WeightedDeployment } from './routing/weights/compute-weights.js';
export {
  WEIGHTS_SCHEMA_VERSION,
  buildWeightsDocument,
  serializeWeightsDocument,
  parseWeightsDocument,
  isNewerWeightsDocument,
  isWeightsDocumentStale,
  weightsOf,
} from './routing/weights/weights-document.js';
export type { PublishedHealth, WeightsDocument, WeightsDocumentOptions } from './routing/weights/weights-document.js';
export { routable, weightedShuffle, orderInTiers } from './routing/strategies/routable.js';
export type { RoutableDeployment } from './routing/strategies/routable.js';
export { DEFAULT_EXPECTED_OUTPUT_TOKENS, DEFAULT_ESTIMATED_PROMPT_TOKENS } from './routing/strategies/request-profile.js';
export type { RequestProfile } from './routing/strategies/request-profile.js';
export { createRoundRobinStrategy } from './routing/strategies/round-robin.js';
export type { RoundRobinOptions } from './routing/strategies/round-robin.js';
export { leastBusyStrategy } from './routing/strategies/least-busy.js';
export { latencyStrategy, createLatencyStrategy } from './routing/strategies/latency.js';
export type { LatencyOptions } from './routing/strategies/latency.js';
export { costStrategy, expectedCost, compareCosts } from './routing/strategies/cost.js';
export { capabilityStrategy } from './routing/strategies/capability.js';
export { StrategyRegistry, BUILT_IN_STRATEGY_NAMES } from './routing/strategies/registry.js';
export type { BuiltInStrategyName } from './routing/strategies/registry.js';
export { classifyRequest, TIERS, isTier, tierRank, DEFAULT_CLASSIFIER_SETTINGS, createClassifierSettings, classifierSettingsProblem, DIMENSION_NAMES, DEFAULT_DIMENSION_WEIGHTS, estimateTokens, estimatePromptTokens, VIRTUAL_MODELS, isVirtualModel, modelsForTier, type Tier, type Classification, type ClassificationSignal, type ClassifierOptions, type ClassifierSettings, type TierBoundaries, type DimensionName, type DimensionWeights, type ClassifierInput, type ClassifierMessage, type ClassifierContentPart, type TierProfile, type TierProfiles, type VirtualModel } from './routing/classifier/index.js';
export * from './routing/router/index.js';
export { retryPolicySchema, routingSchema, routingRuleSchema, tierProfileSchema } from './config/routing-schema.js';
export type { HedgeSettings, RetryPolicy, RoutingConfig, RoutingRule, RuleMatch, RuleRoute, TierProfileConfig, ModelRouting } from './config/routing-schema.js';
export * from './keys/index.js';
export { isRecord, isNonEmptyArray } from './json.js';
export { NANO_USD } from './state/limits.js';
export type { BudgetCheck, SpendStatus, SpendReader } from './state/limits.js';
export { usageDay, usageMonth, msUntilPeriodEnds, toNanoUsd, parseUsageRecord } from './usage/usage-record.js';
export type { UsageCharge, UsageRecord } from './usage/usage-record.js';
export { USAGE_METRICS, NO_KEY, NO_MODEL, usageIncrements, usageKeyOf, summarizeUsage, daysBetween, dayCount } from './usage/usage-totals.js';
export type { UsageDay, UsageQuery, UsageRow, UsageGrouping, UsageMetric } from './usage/usage-totals.js';
export type { UsageLedger } from './usage/usage-ledger.js';
export { MemoryUsageLedger } from './usage/memory-usage-ledger.js';
export type { UsageSnapshot } from './usage/memory-usage-ledger.js';
export { FileUsageLedger } from './usage/file-usage-ledger.js';
export type { FileUsageLedgerOptions } from './usage/file-usage-ledger.js';
export { openEmbeddedStorage } from './storage/embedded-storage.js';
export type { EmbeddedStorage, EmbeddedStorageOptions } from './storage/embedded-storage.js';
export { JournalFile } from './storage/journal-file.js';
export type { JournalFileOptions, JournalState } from './storage/journal-file.js';
export { lockDataDir, LOCK_FILE } from './storage/data-dir-lock.js';
export { RedisUsageLedger, USAGE_GROUP } from './usage/redis-usage-ledger.js';
export { UsageAggregator } from './usage/usage-aggregator.js';
export type { UsageAggregatorOptions } from './usage/usage-aggregator.js';
export { loadTokenizer, countTextTokens, estimatePromptTokens as estimateUsagePromptTokens, estimateCompletionTokens, estimateStreamCompletionTokens, StreamCompletionCounter, CHAT_MESSAGE_TOKENS, REPLY_PRIMING_TOKENS, MESSAGE_NAME_TOKENS, IMAGE_PART_TOKENS, type TokenCountedOperation } from './usage/estimate-tokens.js';
export * from './responses/index.js';
export { responsesSchema } from './config/responses-schema.js';
export type { ResponsesConfig, ResponseStoreConfig } from './config/responses-schema.js';
export { flattened } from './flat-string.js';
