const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over UTF-16 code units: cheap, stable across runs and platforms, good enough to seed a PRNG. */
export function fnv1a(text: string, basis: number = FNV_OFFSET_BASIS): number {
  let hash = basis >>> 0;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash;
}

/** Hashes several parts without ambiguity between ("ab","c") and ("a","bc"). */
export function hashParts(parts: ReadonlyArray<string | number>): number {
  let hash = FNV_OFFSET_BASIS;
  for (const part of parts) {
    hash = fnv1a(String(part), hash);
    hash = fnv1a('\u0000', hash);
  }
  return hash;
}
