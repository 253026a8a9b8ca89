import { ConfigError, type GatewayConfig, type Logger } from '@dosrouter/shared';
import type { RequestTracer } from './request-trace.js';

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Whether requests are traced: `telemetry.tracing.enabled` when set, else whenever an OTLP endpoint is given in the
 * environment (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT); OTEL_SDK_DISABLED=true and
 * OTEL_TRACES_EXPORTER=none turn it off whatever the config says.
 */
export function tracingEnabled(config: GatewayConfig['telemetry']['tracing'], environment: Environment): boolean {
  if (environment.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  if (environment.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return false;
  if (config.enabled !== undefined) return config.enabled;
  return Boolean(environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || environment.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/**
 * The OTLP endpoint variable the exporter will read, checked: an http(s) URL, or a ConfigError naming the variable
 * (the SDK would otherwise take `collector:4318` as a URL of scheme `collector:` and fail every export quietly).
 */
export function checkEndpointVariables(environment: Environment): void {
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
    const value = environment[name]?.trim();
    if (!value) continue;
    const protocol = URL.canParse(value) ? new URL(value).protocol : undefined;
    if (protocol !== 'http:' && protocol !== 'https:') throw new ConfigError(`${name} must be an http:// or https:// URL, got "${value}"`);
    // The more specific variable wins: the other one is not used.
    return;
  }
}

/** Starts the tracer once the replica is known. */
export type StartTracer = (context: { readonly replica: string; readonly logger: Logger; readonly clock: () => number }) => RequestTracer;

/**
 * Undefined when tracing is off; else checks its settings (a ConfigError naming a bad variable) and imports the
 * OpenTelemetry SDK — only here, only when on: a gateway that does not trace neither loads it nor pays for it. Called
 * before the gateway opens anything, so that a bad setting stops the start with nothing left open.
 */
export async function loadTracing(config: GatewayConfig['telemetry']['tracing']): Promise<StartTracer | undefined> {
  // The exporter reads the OTEL_* variables of process.env itself (endpoint, headers, timeout, compression).
  const environment = process.env;
  if (!tracingEnabled(config, environment)) return undefined;
  if (!config.endpoint) checkEndpointVariables(environment);
  const { createOtelTracer } = await import('./otel-tracer.js');
  return ({ replica, logger, clock }) => {
    const tracer = createOtelTracer({ ...(config.endpoint ? { endpoint: config.endpoint } : {}), captureContent: config.captureContent, replica, logger, clock });
    logger.info('tracing on', {
      endpoint: config.endpoint ?? environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? environment.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318',
      captureContent: config.captureContent,
    });
    return tracer;
  };
}
