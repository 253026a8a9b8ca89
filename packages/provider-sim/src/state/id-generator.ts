import { hashParts } from '../generation/hash.js';

/**
 * Ids for responses and requests (`chatcmpl-…`, `cmpl-…`, `req_…`): a per-simulator sequence, unique within the
 * simulator, mixed with the seed so that two simulators with the same seed hand out the same ids in the same order.
 */
export class IdGenerator {
  private sequence = 0;

  constructor(private readonly seed: number) {}

  next(prefix: string): string {
    this.sequence += 1;
    const mixed = hashParts([this.seed, this.sequence]).toString(16).padStart(8, '0');
    return `${prefix}${mixed}${this.sequence.toString(36).padStart(8, '0')}`;
  }
}
