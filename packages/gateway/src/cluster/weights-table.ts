import { isNewerWeightsDocument, isWeightsDocumentStale, parseWeightsDocument, weightsOf, type WeightsDocument } from '@dosrouter/shared';

export type WeightsSource = 'configured' | 'prober' | 'stale';

/**
 * The routing weights the prober published, as this replica last accepted them. A document this release cannot
 * read (malformed, unknown schema version) or an older generation is ignored and the last good table kept.
 * Once the table is older than `staleAfterMs` (the prober stopped), routing falls back to configured weights.
 */
export class WeightsTable {
  private document: WeightsDocument | undefined;
  private weights: ReadonlyMap<string, number> = new Map();

  constructor(private readonly staleAfterMs: number) {}

  /** Offers a published document (the Redis value or a pub/sub message); returns true when it was taken. */
  offer(text: string | null | undefined): boolean {
    if (!text) return false;
    const document = parseWeightsDocument(text);
    if (!document || !isNewerWeightsDocument(document, this.document)) return false;
    this.document = document;
    this.weights = weightsOf(document);
    return true;
  }

  /** The last document taken, for the dashboard: its health states and when it was published. */
  get published(): WeightsDocument | undefined {
    return this.document;
  }

  get generation(): number | undefined {
    return this.document?.generation;
  }

  source(now: number): WeightsSource {
    if (!this.document) return 'configured';
    return isWeightsDocumentStale(this.document, now, this.staleAfterMs) ? 'stale' : 'prober';
  }

  /** The weights routing uses now: the prober's while fresh, else none (each deployment's configured weight). */
  current(now: number): ReadonlyMap<string, number> {
    return this.source(now) === 'prober' ? this.weights : EMPTY;
  }
}

const EMPTY: ReadonlyMap<string, number> = new Map();
