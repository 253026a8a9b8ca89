import type { IncomingHttpHeaders } from 'node:http';
import type { RecordedRequest } from '../types.js';

/** Keeps the last `capacity` requests in a ring buffer, so recording costs the same at any request rate. */
export class RequestRecorder {
  private readonly slots: Array<RecordedRequest | undefined>;
  private nextSlot = 0;
  private size = 0;

  constructor(private readonly capacity: number) {
    this.slots = new Array<RecordedRequest | undefined>(capacity);
  }

  record(request: RecordedRequest): void {
    if (this.capacity === 0) {
      return;
    }
    this.slots[this.nextSlot] = request;
    this.nextSlot = (this.nextSlot + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Newest last. */
  list(): RecordedRequest[] {
    const requests: RecordedRequest[] = [];
    const oldest = (this.nextSlot - this.size + this.capacity) % this.capacity;
    for (let offset = 0; offset < this.size; offset += 1) {
      const request = this.slots[(oldest + offset) % this.capacity];
      if (request !== undefined) {
        requests.push(request);
      }
    }
    return requests;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.nextSlot = 0;
    this.size = 0;
  }
}

/** Node already lower-cases header names; repeated headers arrive as arrays and are joined the way HTTP folds them. */
export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) {
      flat[name] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return flat;
}
