/**
 * Text compared as a reader would: every run of whitespace one space, none at the start. Backends that answer the
 * same words may still differ in spacing and line breaks. (No Unicode normalisation: the cut in the new answer's
 * raw text must fall where the comparison says.)
 */
export function normalizeText(text: string): string {
  return text.replace(/\s+/gu, ' ').replace(/^ /u, '');
}

export type PrefixVerdict =
  /** Not enough of the new answer yet to tell. */
  | { readonly verdict: 'pending' }
  /** The new answer does not start with what the client already has. */
  | { readonly verdict: 'mismatch' }
  /** It does: `rest` is what follows the delivered part (in this push and every later one, all of it). */
  | { readonly verdict: 'matched'; readonly rest: string };

/**
 * Checks, as a new answer streams in, that it starts with the text the client already received (compared
 * normalised), and then gives what comes after it: the continuation of a backend asked again without the prefill.
 */
export class PrefixMatcher {
  private readonly target: string;
  private received = '';
  private matched = false;

  constructor(delivered: string) {
    this.target = normalizeText(delivered);
  }

  push(text: string): PrefixVerdict {
    if (this.matched) return { verdict: 'matched', rest: text };
    this.received += text;
    const normalized = normalizeText(this.received);
    if (normalized.length < this.target.length) {
      return this.target.startsWith(normalized) ? { verdict: 'pending' } : { verdict: 'mismatch' };
    }
    if (!normalized.startsWith(this.target)) return { verdict: 'mismatch' };
    this.matched = true;
    return { verdict: 'matched', rest: this.received.slice(rawLengthOf(this.received, this.target)) };
  }

  /** The new answer ended: it was shorter than what was delivered unless it already matched. */
  get satisfied(): boolean {
    return this.matched;
  }
}

/**
 * How many characters of `raw` make up `normalizedPrefix` once normalised (a prefix of it, as `push` checked), the
 * whitespace run that ends it included when the prefix ends with a space.
 */
function rawLengthOf(raw: string, normalizedPrefix: string): number {
  if (normalizedPrefix === '') return 0;
  let produced = 0;
  let inSpace = true; // leading whitespace produces nothing
  let index = 0;
  for (; index < raw.length && produced < normalizedPrefix.length; index += 1) {
    const space = /\s/u.test(raw[index]!);
    if (space && !inSpace) produced += 1;
    if (!space) produced += 1;
    inSpace = space;
  }
  if (normalizedPrefix.endsWith(' ')) while (index < raw.length && /\s/u.test(raw[index]!)) index += 1;
  return index;
}
