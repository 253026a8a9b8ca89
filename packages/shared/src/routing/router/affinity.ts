import type { Deployment } from '../../catalog/catalog.js';

/** FNV-1a, 32 bits: a fast, well-spread hash of a short string (a session id and a deployment id). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  // A final avalanche (murmur3's fmix32): FNV alone spreads the low bits of near-identical inputs poorly.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * The deployment a session sticks to, by weighted rendezvous hashing over the configured weights: every replica
 * computes the same answer with no shared state and no round trip. While a deployment stays among the candidates
 * (its circuit closed, its weight above 0) its sessions stay on it; when it leaves, only its own sessions move,
 * spread over the others by weight, and they come back when it returns.
 */
export function sessionDeployment(sessionId: string, candidates: readonly Deployment[]): Deployment | undefined {
  let best: Deployment | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const deployment of candidates) {
    if (deployment.weight <= 0) continue;
    // A uniform draw in (0, 1) per (session, deployment); -ln(u)/w is the weighted rendezvous score, lowest wins.
    const uniform = (fnv1a(`${sessionId}\u0000${deployment.id}`) + 0.5) / 4_294_967_296;
    const score = -Math.log(uniform) / deployment.weight;
    if (score < bestScore) {
      bestScore = score;
      best = deployment;
    }
  }
  return best;
}
