import { isRecord, type GatewayError } from '@dosrouter/shared';
import type { AnswerDialect } from './answer-dialect.js';
import { NamedEventScanner } from './named-event-scanner.js';
import { parseObject } from './sse-scanner.js';
import { usageFromResponse } from '../usage/token-usage.js';

/** A delta event that carries a token (text, refusal, reasoning or tool arguments) when its `delta` is not empty. */
const TOKEN_EVENTS = new Set([
  'response.output_text.delta',
  'response.refusal.delta',
  'response.reasoning_text.delta',
  'response.reasoning_summary_text.delta',
  'response.function_call_arguments.delta',
]);
const NON_EMPTY_DELTA = /"delta"\s*:\s*"[^"]/;
const FUNCTION_CALL_ITEM = /"type"\s*:\s*"function_call"/;
const SEQUENCE_NUMBER = /"sequence_number"\s*:\s*(\d+)/;
/** The statuses of a Response that ended as an answer (kept when stored); `failed` and `cancelled` did not. */
const FINISHED = new Set<unknown>(['completed', 'incomplete']);

/**
 * Scans a Responses event stream as it passes through from an `api: responses` backend untranslated, as SseScanner
 * does for Chat Completions: it cuts the bytes at event boundaries, notes the first token (a non-empty delta, or a
 * function call item), the usage (`response.completed`'s response), errors (`response.failed`, `error`) and the
 * last sequence number, and holds the closing event (`response.completed` or `response.incomplete`) back until the
 * usage record is committed. Only the closing and failing events are parsed; deltas are matched by pattern.
 */
export class ResponsesSseScanner extends NamedEventScanner {
  /** The closing event, held back (the relay sends it as the dialect's end of stream). */
  heldEnd = '';
  /** The last `sequence_number` the backend sent: the gateway's own error event follows it. */
  lastSequence = -1;

  constructor(
    /** Told the closing event's Response (completed or incomplete) as it is read, before it is sent on. */
    private readonly onFinished?: (response: Record<string, unknown>) => void,
  ) {
    super();
  }

  protected inspect(name: string | undefined, data: string, event: string): boolean {
    const sequence = SEQUENCE_NUMBER.exec(data);
    if (sequence) this.lastSequence = Number(sequence[1]);
    const type = name ?? /^\{\s*"type"\s*:\s*"([a-z_.]+)"/.exec(data)?.[1] ?? (parseObject(data)?.type as string | undefined);
    if (type !== undefined && TOKEN_EVENTS.has(type)) {
      if (!this.firstTokenSeen && NON_EMPTY_DELTA.test(data)) this.firstTokenSeen = true;
      return true;
    }
    switch (type) {
      case 'response.output_item.added':
        if (!this.firstTokenSeen && FUNCTION_CALL_ITEM.test(data)) this.firstTokenSeen = true;
        return true;
      case 'response.completed':
      case 'response.incomplete': {
        const response = parseObject(data)?.response;
        this.usage = usageFromResponse(response);
        if (isRecord(response)) this.onFinished?.(response);
        this.finishSeen = true;
        this.doneSeen = true;
        if (type === 'response.incomplete' && /"reason"\s*:\s*"content_filter"/.test(data)) this.contentFilterSeen = true;
        this.heldEnd = event;
        return false;
      }
      case 'response.failed':
        this.usage = usageFromResponse(parseObject(data)?.response) ?? this.usage;
        this.errorSeen = true;
        return true;
      case 'error':
        this.errorSeen = true;
        return true;
      default:
        return true;
    }
  }
}

/**
 * The dialect of a Responses answer passed through from an `api: responses` backend: one per attempt, since the end
 * of its stream is the closing event its scanner held, and its error event follows the backend's last sequence number.
 * `onFinished` is told the finished Response (a whole answer, or the closing event's), before it goes out.
 */
export function responsesDialect(onFinished?: (response: Record<string, unknown>) => void): AnswerDialect {
  let scanner: ResponsesSseScanner | undefined;
  return {
    // A whole answer is read here once, before it is sent: a finished Response is told to `onFinished` on the way.
    usageOf: (answer) => {
      if (onFinished && isRecord(answer) && answer.object === 'response' && FINISHED.has(answer.status)) onFinished(answer);
      return usageFromResponse(answer);
    },
    scanner: () => {
      scanner = new ResponsesSseScanner(onFinished);
      return scanner;
    },
    get endOfStream() {
      return scanner?.heldEnd ?? '';
    },
    errorEvent: (error) => responsesErrorEvent(error, (scanner?.lastSequence ?? -1) + 1),
  };
}

/** The gateway's own error in a Responses stream: an `error` event, as OpenAI sends one. */
export function responsesErrorEvent(error: GatewayError, sequence: number): string {
  const body = error.toBody().error;
  return `event: error\ndata: ${JSON.stringify({ type: 'error', code: body.code ?? body.type, message: body.message, param: body.param ?? null, sequence_number: sequence })}\n\n`;
}
