import { isRecord } from '@dosrouter/shared';
import { NamedEventScanner } from './named-event-scanner.js';
import { usageFromAnthropicUsage, type TokenUsage } from '../usage/token-usage.js';
import { parseObject } from './sse-scanner.js';

/** A content token in a `content_block_delta`: non-empty text, thinking or tool input. */
const TOKEN_PATTERN = /"(?:text|thinking|partial_json)"\s*:\s*"[^"]/;
const TOOL_USE_START_PATTERN = /"type"\s*:\s*"(?:tool_use|server_tool_use)"/;

/** The `message_stop` event Anthropic ends a complete answer with: held back until the usage record is committed. */
export const MESSAGE_STOP_EVENT = 'event: message_stop\ndata: {"type":"message_stop"}\n\n';

/**
 * Scans an Anthropic Messages event stream as it passes through a native backend untranslated, as SseScanner does
 * for OpenAI's: it cuts the bytes at event boundaries, notes the first content token, the stop reason, errors and
 * the usage (`message_start`'s input counts, `message_delta`'s cumulative ones), and holds `message_stop` back.
 * Only `message_start`, `message_delta` and `error` events are parsed; deltas are matched by pattern.
 */
export class AnthropicSseScanner extends NamedEventScanner {
  /** The usage fields reported so far, each as last reported (message_delta's are cumulative). */
  private readonly reported: Record<string, unknown> = {};

  protected inspect(name: string | undefined, data: string, event: string): boolean {
    switch (name ?? typeOf(data)) {
      case 'content_block_delta':
        if (!this.firstTokenSeen && TOKEN_PATTERN.test(data)) this.firstTokenSeen = true;
        return true;
      case 'content_block_start':
        if (!this.firstTokenSeen && TOOL_USE_START_PATTERN.test(data)) this.firstTokenSeen = true;
        return true;
      case 'message_start':
        const start = parseObject(data);
        this.readUsage(isRecord(start?.message) ? start.message : undefined);
        return true;
      case 'message_delta': {
        const delta = parseObject(data);
        this.readUsage(delta);
        const stopReason = isRecord(delta?.delta) ? delta.delta.stop_reason : undefined;
        if (typeof stopReason === 'string') {
          this.finishSeen = true;
          if (stopReason === 'refusal') this.contentFilterSeen = true;
        }
        return true;
      }
      case 'message_stop':
        this.doneSeen = true;
        return false;
      case 'error':
        this.errorSeen = true;
        return true;
      default:
        return true;
    }
  }

  /**
   * Counts are cumulative: a later event's count replaces an earlier one (a null one does not). The cache counts,
   * the 1-hour share of the writes included, are kept for pricing.
   */
  private readUsage(holder: Record<string, unknown> | undefined): void {
    const usage = isRecord(holder?.usage) ? holder.usage : undefined;
    if (!usage) return;
    for (const [name, value] of Object.entries(usage)) if (value !== null && value !== undefined) this.reported[name] = value;
    this.usage = usageFromAnthropicUsage(this.reported);
  }
}

/**
 * Usage of a whole Messages answer (or a stream's), as the gateway counts it: every prompt token, cache reads and
 * writes included (Anthropic counts them apart from `input_tokens`), and the output.
 */
export function anthropicUsageOf(answer: unknown): TokenUsage | undefined {
  const usage = isRecord(answer) && isRecord(answer.usage) ? answer.usage : undefined;
  return usage ? usageFromAnthropicUsage(usage) : undefined;
}

/** The `type` of an event without an `event:` line, read from its data. */
function typeOf(data: string): string | undefined {
  return /^\{\s*"type"\s*:\s*"([a-z_]+)"/.exec(data)?.[1] ?? (parseObject(data)?.type as string | undefined);
}
