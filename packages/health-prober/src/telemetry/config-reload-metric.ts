import { Counter, type Registry } from 'prom-client';

export type ConfigReloadResult = 'applied' | 'unchanged' | 'invalid';

/**
 * `dosrouter_config_reloads_total{result}`: config reloads (SIGHUP or a watched file's change) by outcome — applied,
 * unchanged (the file means the running config), invalid (refused; the running config stays). The same metric on
 * gateways and probers. Every result starts at 0, so that an alert on `invalid` has a series before the first one.
 */
export function configReloadCounter(registry: Registry): (result: ConfigReloadResult) => void {
  const counter = new Counter({
    name: 'dosrouter_config_reloads_total',
    help: 'Config reloads by result: applied, unchanged (the same config), invalid (refused, the running config stays).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of ['applied', 'unchanged', 'invalid'] as const) counter.labels({ result }).inc(0);
  return (result) => counter.labels({ result }).inc();
}
