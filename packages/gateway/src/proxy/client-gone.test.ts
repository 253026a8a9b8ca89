import { describe, expect, it } from 'vitest';
import { ClientGone } from './client-gone.js';

describe('ClientGone', () => {
  it('is not aborted until the client goes', () => {
    const gone = new ClientGone();
    expect(gone.aborted).toBe(false);
    gone.abort();
    expect(gone.aborted).toBe(true);
  });

  it('aborts a signal read before the client went, when it goes', () => {
    const gone = new ClientGone();
    const { signal } = gone;
    let aborts = 0;
    signal.addEventListener('abort', () => (aborts += 1));
    expect(signal.aborted).toBe(false);
    gone.abort();
    gone.abort();
    expect(signal.aborted).toBe(true);
    expect(aborts).toBe(1);
  });

  it('gives an already aborted signal when read after the client went', () => {
    const gone = new ClientGone();
    gone.abort();
    expect(gone.signal.aborted).toBe(true);
  });
});
