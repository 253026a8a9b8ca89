/** A source of floats in [0, 1). Injected wherever a decision needs randomness. */
export type RandomSource = () => number;

/** mulberry32: a tiny, fast PRNG whose sequence depends only on the 32-bit seed. */
export function createSeededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An integer in [minimum, maximum]. */
export function randomInteger(random: RandomSource, minimum: number, maximum: number): number {
  return minimum + Math.floor(random() * (maximum - minimum + 1));
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlphanumeric(random: RandomSource, length: number): string {
  let text = '';
  for (let index = 0; index < length; index += 1) {
    text += ALPHANUMERIC.charAt(Math.floor(random() * ALPHANUMERIC.length));
  }
  return text;
}
