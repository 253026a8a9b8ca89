import { createHash } from 'node:crypto';

/** Bump when what the key covers changes: old answers are then never found again (they expire). */
const KEY_VERSION = 1;

/**
 * Body fields that never change an answer: who asked (`user`, `metadata`) and `model` (the key names the routed
 * model instead). Everything else the client sent is in the key, parameters the gateway does not know included, so
 * that a new parameter can split the cache but never merge two different answers.
 */
const IGNORED_FIELDS = new Set(['model', 'user', 'metadata']);

export interface CacheKeyInput {
  /** The ingress protocol (`openai.chat/completions`, `anthropic.messages`, …): one answer is never served as another's. */
  readonly protocol: string;
  /** The routed model: the alias resolved, after rules; a group or virtual model by its name. */
  readonly model: string;
  /** A virtual model's tier, as the classifier chose it. */
  readonly tier?: string;
  /** `shared`, or the owner of the answer under `scope: key` (the key's id, or a hash of the credential). */
  readonly scope: string;
  readonly stream: boolean;
  /** The client's body as it was parsed (stream options included: they change a stream's last chunks). */
  readonly body: Readonly<Record<string, unknown>>;
  /** Client headers passed on to a backend (`anthropic-beta`), by lower-case name: absent ones leave the key as it was. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The cache key: SHA-256 (hex) of the input with every object's keys in sorted order. */
export function cacheKeyOf(input: CacheKeyInput): string {
  const hash = createHash('sha256');
  hash.update(`v${KEY_VERSION}\n${input.protocol}\n${input.model}\n${input.tier ?? ''}\n${input.scope}\n${input.stream ? 's' : 'w'}\n`);
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input.body)) if (!IGNORED_FIELDS.has(name)) body[name] = value;
  hash.update(canonicalJson(body));
  if (input.headers && Object.keys(input.headers).length > 0) hash.update(`\n${canonicalJson(input.headers)}`);
  return hash.digest('hex');
}

/** JSON with every object's keys sorted (arrays keep their order): equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const name of Object.keys(record).sort()) {
    if (record[name] === undefined) continue;
    members.push(`${JSON.stringify(name)}:${canonicalJson(record[name])}`);
  }
  return `{${members.join(',')}}`;
}
