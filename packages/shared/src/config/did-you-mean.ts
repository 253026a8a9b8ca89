/**
 * The known name closest to a misspelt one, or undefined when none is close enough to be a likely typo. Case, `_`
 * and `-` are ignored first (`inputPerMtok` → `inputPerMTok`, `apikey_header` → `apiKeyHeader`); then up to one edit
 * per four characters (at least one, at most three) is allowed, a swap of two neighbours counting as one
 * (`prot` → `port`).
 */
export function closestName(misspelt: string, known: Iterable<string>): string | undefined {
  const wanted = normalized(misspelt);
  const allowed = Math.min(3, Math.max(1, Math.floor(wanted.length / 4)));
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    if (name === misspelt) continue;
    const distance = editDistance(wanted, normalized(name));
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** `; did you mean X?` for a near miss, else nothing: the tail of an "unknown …" message. */
export function didYouMean(misspelt: string, known: Iterable<string>): string {
  const suggestion = closestName(misspelt, known);
  return suggestion === undefined ? '' : `; did you mean ${suggestion}?`;
}

function normalized(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost one. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) distance = Math.min(distance, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = distance;
    }
  }
  return rows[a.length]![b.length]!;
}
