/** Plain, neutral words: simulated answers must never look like real advice or trip content filters downstream. */
export const WORDS: readonly string[] = [
  'the', 'a', 'of', 'and', 'to', 'in', 'is', 'for', 'on', 'with', 'as', 'by', 'at', 'from', 'it', 'this',
  'that', 'an', 'be', 'are', 'was', 'can', 'will', 'each', 'more', 'some', 'other', 'into', 'than', 'then', 'also',
  'route', 'model', 'token', 'stream', 'request', 'answer', 'gateway', 'latency', 'budget', 'cache', 'queue',
  'signal', 'window', 'vector', 'packet', 'buffer', 'channel', 'cluster', 'replica', 'region', 'service', 'record',
  'value', 'table', 'index', 'field', 'batch', 'shard', 'node', 'edge', 'graph', 'layer', 'frame', 'block',
  'river', 'mountain', 'forest', 'meadow', 'harbor', 'island', 'valley', 'garden', 'bridge', 'lantern', 'compass',
  'orbit', 'comet', 'planet', 'silver', 'amber', 'cobalt', 'crimson', 'golden', 'quiet', 'rapid', 'steady',
  'bright', 'gentle', 'simple', 'careful', 'patient', 'useful', 'clear', 'small', 'large', 'early', 'late',
  'north', 'south', 'east', 'west', 'morning', 'evening', 'winter', 'summer', 'spring', 'autumn', 'paper',
  'pencil', 'mirror', 'ladder', 'basket', 'kettle', 'violin', 'canvas', 'marble', 'copper', 'pebble', 'feather',
  'builds', 'carries', 'checks', 'measures', 'follows', 'returns', 'selects', 'balances', 'retries', 'waits',
  'sends', 'reads', 'writes', 'counts', 'keeps', 'finds', 'moves', 'holds', 'opens', 'closes', 'starts', 'stops',
];
