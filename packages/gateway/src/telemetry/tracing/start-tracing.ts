import type { GatewayConfig, Logger } from '@dosrouter/shared';
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
 * The request tracer, or undefined when tracing is off. The OpenTelemetry SDK is imported only here, only when on:
 * a gateway that does not trace neither loads it nor pays for it.
 */
export async function startTracing(
  config: GatewayConfig['telemetry']['tracing'],
  context: { readonly replica: string; readonly logger: Logger; readonly clock: () => number },
): Promise<RequestTracer | undefined> {
  // The exporter reads the OTEL_* variables of process.env itself (endpoint, headers, timeout, compression).
  const environment = process.env;
  if (!tracingEnabled(config, environment)) return undefined;
  const { createOtelTracer } = await import('./otel-tracer.js');
  const tracer = createOtelTracer({
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    captureContent: config.captureContent,
    replica: context.replica,
    logger: context.logger,
    clock: context.clock,
  });
  context.logger.info('tracing on', {
    endpoint: config.endpoint ?? environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? environment.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318',
    captureContent: config.captureContent,
  });
  return tracer;
}
