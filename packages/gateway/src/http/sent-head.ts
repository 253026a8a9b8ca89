import type { ServerResponse } from 'node:http';
import { flattened } from '@dosrouter/shared';

/** What Node keeps of a response's head: `_header` (the head as sent) and `[kOutHeaders]` (the headers as set). */
type KeptHead = ServerResponse & { readonly _header?: unknown } & Record<symbol, unknown>;

/** Node's own key for the headers set on a response (`OutgoingMessage[kOutHeaders]`), found on the first response. */
let outHeadersKey: symbol | undefined;

/**
 * Lets a response whose head is sent keep that head only: one flat string (`_header`, built header by header) and
 * not the table of headers it was made from (`kOutHeaders`: an object in dictionary mode, a `[name, value]` pair per
 * header, ~1.6 KB for the gateway's twenty-odd headers), which Node reads only for `getHeader` and friends and which
 * otherwise lives as long as the stream. After this `getHeader` answers undefined: read `sentContentType` instead.
 * Both fields are Node's internals, read and cleared only when present; if a Node version drops them, this does
 * nothing and the response keeps what it kept.
 */
export function keepOnlySentHead(response: ServerResponse): void {
  const kept = response as KeptHead;
  if (typeof kept._header !== 'string') return;
  flattened(kept._header);
  outHeadersKey ??= Object.getOwnPropertySymbols(response).find((key) => key.description === 'kOutHeaders');
  if (outHeadersKey !== undefined && typeof kept[outHeadersKey] === 'object') kept[outHeadersKey] = null;
}

/** The content type a response was given (set, or as sent when `keepOnlySentHead` let the headers go). */
export function sentContentType(response: ServerResponse): string | undefined {
  const set = response.getHeader('content-type');
  if (set !== undefined) return String(set);
  const head = (response as KeptHead)._header;
  if (typeof head !== 'string') return undefined;
  return /\r\ncontent-type: *([^\r\n]*)/i.exec(head)?.[1];
}
