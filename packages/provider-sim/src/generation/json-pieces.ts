/**
 * Splits serialized JSON after each `,` and `:` (e.g. `{"city":` `"oslo",` `"days":` `3}`), which is roughly how a
 * tokenizer cuts compact JSON. The pieces always join back to the input.
 */
export function splitJsonIntoPieces(json: string): string[] {
  const pieces = json.match(/[^,:]*[,:]?/g) ?? [];
  const nonEmpty = pieces.filter((piece) => piece.length > 0);
  return nonEmpty.length > 0 ? nonEmpty : [json];
}
