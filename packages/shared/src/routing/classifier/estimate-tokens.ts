/**
 * `String.prototype.charCodeAt`, captured here and called through `.call` in the per-character loop. A module that
 * subclasses String (ioredis's `VerbatimString`) turns `String.prototype` into a dictionary-mode object, after which
 * V8 no longer inlines `text.charCodeAt(i)`: counting a 2 KB prompt took 4× longer. A call on a module-level constant
 * is still inlined; an imported binding is not, so keyword-matcher.ts captures its own.
 */
const charCodeAt = String.prototype.charCodeAt;

/**
 * A cheap token estimate, good to within a factor of about 1.5 for common tokenizers, which is all the classifier
 * needs (its thresholds are orders of magnitude apart): one token per 4 ASCII characters (English prose and code
 * average 3.5–4.5), one per 2 other non-CJK characters (accented Latin, Cyrillic, Greek: tokenizers split these more
 * finely), and one per CJK ideograph, kana or Hangul syllable. It reads each UTF-16 code unit once and allocates
 * nothing: counting real tokens would cost more than the whole classification.
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let cjk = 0;
  let other = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = charCodeAt.call(text, index);
    if (code < 0x80) ascii += 1;
    else if (isCjk(code)) cjk += 1;
    // A low surrogate is the second half of a character already counted.
    else if (code < 0xdc00 || code > 0xdfff) other += 1;
  }
  return Math.ceil(ascii / 4 + other / 2 + cjk);
}

/** CJK punctuation, kana, ideographs (with extension A and compatibility), Hangul syllables, full-width forms. */
function isCjk(code: number): boolean {
  return (
    (code >= 0x3000 && code <= 0x30ff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0xac00 && code <= 0xd7af) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xff00 && code <= 0xffef)
  );
}
