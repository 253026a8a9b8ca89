import type { ApiKeyRecord, GatewayConfig } from '@dosrouter/shared';
import { PRIORITIES, type Priority } from './fair-queue.js';

export const PRIORITY_HEADER = 'x-dosrouter-priority';

/** Where one request stands in every saturation queue it meets: its key's flow, share and class. */
export interface QueuePlace {
  /** The key's id; without a key (open mode), the client's address. */
  readonly flow: string;
  readonly priority: Priority;
  /** The key's fair-share weight (deficit round robin). */
  readonly weight: number;
}

/**
 * The request's place: its key's `queue.weight` (default 1) and `queue.priority` (default `normal`). The client's
 * `x-dosrouter-priority` header overrides the class only when the key allows it (`queue.priorityHeader`), or, for a
 * key that does not say and for requests without a key, when `saturation.priorityHeader` does.
 */
export function queuePlaceOf(
  config: GatewayConfig['saturation'],
  apiKey: ApiKeyRecord | undefined,
  header: string | string[] | undefined,
  address: string | undefined,
): QueuePlace {
  const settings = apiKey?.queue;
  const headerHonoured = settings?.priorityHeader ?? config.priorityHeader;
  return {
    flow: apiKey?.id ?? `address:${address ?? 'unknown'}`,
    priority: (headerHonoured ? priorityIn(header) : undefined) ?? settings?.priority ?? 'normal',
    weight: settings?.weight ?? 1,
  };
}

function priorityIn(header: string | string[] | undefined): Priority | undefined {
  if (typeof header !== 'string') return undefined;
  const priority = header.trim().toLowerCase();
  return (PRIORITIES as readonly string[]).includes(priority) ? (priority as Priority) : undefined;
}
