/**
 * The chunks of a Chat Completions stream a translation writes (from Messages or Responses events): every chunk of
 * one answer repeats its id, `created` and model, so their JSON start is made once, when the answer starts.
 */
export class ChatChunks {
  private prefix = '';

  /** True once `start` named the answer: before it, a translated stream has nothing to put a delta in. */
  get started(): boolean {
    return this.prefix !== '';
  }

  start(id: string, created: number, model: string): void {
    this.prefix = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":`;
  }

  /** A chunk of the first choice whose delta is the JSON text `delta`, with its finish reason if it has one. */
  chunk(delta: string, finishReason: string | null = null): string {
    return `data: ${this.prefix}[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finishReason === null ? 'null' : `"${finishReason}"`}}]}\n\n`;
  }

  /** The usage chunk: no choices, the answer's usage. */
  usage(usage: unknown): string {
    return `data: ${this.prefix}[],"usage":${JSON.stringify(usage)}}\n\n`;
  }
}
