#!/usr/bin/env node
// `pnpm -s dosrouter keys <command>` and `pnpm -s dosrouter usage`: the admin API for client keys and usage from a
// shell, and `pnpm -s dosrouter cache flush --model M` (the response cache). Talks to DOSROUTER_URL (default http://127.0.0.1:8080) with the admin key. Prints the API's JSON; exits 1
// with the API's error message on failure. The secret of a created or rotated key is printed once, as the API
// returns it. `pnpm -s dosrouter check`: validates a config without starting anything (the gateway's --check).
// `-s` (--silent) keeps pnpm's own "> dosrouter@… dosrouter" banner off stdout, so that the JSON pipes into jq.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const USAGE = `usage: pnpm -s dosrouter check [--config FILE] [--json]
  validate a config (default: DOSROUTER_CONFIG, else config/demo.yaml), resolve every model, alias, group and rule,
  print a summary; exit 0 valid, 1 not. Starts nothing. Needs a build (pnpm run build).
       pnpm -s dosrouter keys <command> [options]
  create --name NAME [--model M]... [--owner k=v]... [--rpm N] [--tpm N] [--concurrency N] [--expires ISO-DATE]
         [--daily-usd X] [--monthly-usd X] [--soft-daily-usd X]
         [--weight W] [--priority high|normal|low] [--priority-header yes|no] [--cache on|off|default]
  list
  get ID
  update ID [--name NAME] [--model M]... [--all-models] [--rpm N] [--tpm N] [--concurrency N] [--expires ISO-DATE|never]
         [--daily-usd X] [--monthly-usd X] [--soft-daily-usd X]
         [--weight W] [--priority high|normal|low] [--priority-header yes|no] [--cache on|off|default]
  (--weight, --priority, --priority-header: the key's fair share and class in the saturation queues;
   --cache: the response cache for the key's requests, or as the config says)
  rotate ID [--grace SECONDS]
  revoke ID
       pnpm -s dosrouter usage [--key ID] [--model M] [--from DAY] [--to DAY] [--group-by key,model,day]
       pnpm -s dosrouter cache flush --model M
  delete every answer of model M from the response cache (every replica's, in cluster mode)
environment: DOSROUTER_URL (default http://127.0.0.1:8080), DOSROUTER_ADMIN_KEY or DOSROUTER_ADMIN_KEY_FILE (keys, usage, cache)
-s keeps pnpm's banner off stdout: pnpm -s dosrouter keys list | jq '.data[].name'`;

const options = {
  name: { type: 'string' },
  model: { type: 'string', multiple: true },
  'all-models': { type: 'boolean' },
  owner: { type: 'string', multiple: true },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  concurrency: { type: 'string' },
  expires: { type: 'string' },
  grace: { type: 'string' },
  'daily-usd': { type: 'string' },
  'monthly-usd': { type: 'string' },
  'soft-daily-usd': { type: 'string' },
  weight: { type: 'string' },
  priority: { type: 'string' },
  'priority-header': { type: 'string' },
  cache: { type: 'string' },
  key: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  'group-by': { type: 'string' },
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

function fail(message) {
  process.stderr.write(`dosrouter: ${message}\n`);
  process.exit(1);
}

function integer(value, flag) {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) fail(`--${flag} must be a whole number, got "${value}"`);
  return number;
}

function dollars(value, flag) {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) fail(`--${flag} must be an amount in USD such as 2.50, got "${value}"`);
  return number;
}

function weight(value) {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0.01 || number > 1000) fail(`--weight must be a number from 0.01 to 1000, got "${value}"`);
  return number;
}

function oneOf(value, flag, choices) {
  if (value === undefined) return undefined;
  if (!choices.includes(value)) fail(`--${flag} must be one of ${choices.join(', ')}, got "${value}"`);
  return value;
}

function yesNo(value, flag) {
  if (value === undefined) return undefined;
  return oneOf(value, flag, ['yes', 'no']) === 'yes';
}

/** The create/update body from the flags; only what was given. */
function fieldsOf(values) {
  const fields = {};
  if (values.name !== undefined) fields.name = values.name;
  if (values.model) fields.allowedModels = values.model;
  if (values['all-models']) fields.allowedModels = null;
  if (values.owner) {
    fields.owner = Object.fromEntries(
      values.owner.map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) fail(`--owner takes key=value, got "${pair}"`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    );
  }
  const limits = { requestsPerMinute: integer(values.rpm, 'rpm'), tokensPerMinute: integer(values.tpm, 'tpm'), concurrency: integer(values.concurrency, 'concurrency') };
  if (Object.values(limits).some((value) => value !== undefined)) fields.limits = Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined));
  const budget = { dailyUsd: dollars(values['daily-usd'], 'daily-usd'), monthlyUsd: dollars(values['monthly-usd'], 'monthly-usd'), softDailyUsd: dollars(values['soft-daily-usd'], 'soft-daily-usd') };
  if (Object.values(budget).some((value) => value !== undefined)) fields.budget = Object.fromEntries(Object.entries(budget).filter(([, value]) => value !== undefined));
  const queue = { weight: weight(values.weight), priority: oneOf(values.priority, 'priority', ['high', 'normal', 'low']), priorityHeader: yesNo(values['priority-header'], 'priority-header') };
  if (Object.values(queue).some((value) => value !== undefined)) fields.queue = Object.fromEntries(Object.entries(queue).filter(([, value]) => value !== undefined));
  const cache = oneOf(values.cache, 'cache', ['on', 'off', 'default']);
  if (cache !== undefined) fields.cache = cache === 'default' ? null : cache === 'on';
  if (values.expires === 'never') fields.expiresAt = null;
  else if (values.expires !== undefined) {
    const at = Date.parse(values.expires);
    if (Number.isNaN(at)) fail(`--expires must be a date such as 2027-01-31T00:00:00Z, got "${values.expires}"`);
    fields.expiresAt = at;
  }
  return fields;
}

/** A module of the built packages; they exist after `pnpm run build` (`pnpm start` builds too). */
async function built(path) {
  try {
    return await import(new URL(`../packages/${path}`, import.meta.url).href);
  } catch (error) {
    if (error.code === 'ERR_MODULE_NOT_FOUND') fail(`packages/${path} is missing: run pnpm run build first`);
    throw error;
  }
}

async function call(method, path, body) {
  const { adminKeyFromEnvironment, ConfigError } = await built('shared/dist/index.js');
  let adminKey;
  try {
    adminKey = adminKeyFromEnvironment(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    fail(error.message);
  }
  if (!adminKey) fail('set DOSROUTER_ADMIN_KEY (or DOSROUTER_ADMIN_KEY_FILE) to the gateway’s admin key');
  const base = (process.env.DOSROUTER_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  let response;
  try {
    response = await fetch(`${base}/admin/${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    fail(`cannot reach ${base}: ${error.cause?.message ?? error.message}`);
  }
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) fail(`${response.status}: ${payload.error?.message ?? 'request failed'}`);
  process.stdout.write(`${JSON.stringify(payload, null, 2)}\n`);
}

let parsed;
try {
  parsed = parseArgs({ options, allowPositionals: true, strict: true });
} catch (error) {
  fail(`${error.message}\n${USAGE}`);
}
const { values, positionals } = parsed;
const [group, command, id] = positionals;
if (values.help || !((group === 'keys' && command !== undefined) || group === 'usage' || (group === 'check' && command === undefined) || (group === 'cache' && command === 'flush'))) {
  (values.help ? process.stdout : process.stderr).write(`${USAGE}\n`);
  process.exit(values.help ? 0 : 1);
}
if (group === 'check') {
  const { runConfigCheck } = await built('gateway/dist/check/config-check.js');
  process.exitCode = await runConfigCheck({
    program: 'dosrouter check',
    configPath: values.config,
    defaultPath: fileURLToPath(new URL('../config/demo.yaml', import.meta.url)),
    json: values.json === true,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
  process.exit();
}
if (group === 'usage') {
  const query = new URLSearchParams();
  for (const [flag, parameter] of [['key', 'key'], ['model', 'model'], ['from', 'from'], ['to', 'to'], ['group-by', 'group_by']]) {
    const value = Array.isArray(values[flag]) ? values[flag].at(-1) : values[flag];
    if (value !== undefined) query.set(parameter, value);
  }
  await call('GET', `usage${query.size > 0 ? `?${query}` : ''}`);
  process.exit(0);
}
if (group === 'cache') {
  const model = values.model?.at(-1) ?? fail('cache flush needs --model');
  await call('DELETE', `cache/models/${encodeURIComponent(model)}`);
  process.exit(0);
}
const needId = () => id ?? fail(`${command} needs a key id`);
switch (command) {
  case 'create':
    if (values.name === undefined) fail('create needs --name');
    await call('POST', 'keys', fieldsOf(values));
    break;
  case 'list':
    await call('GET', 'keys');
    break;
  case 'get':
    await call('GET', `keys/${encodeURIComponent(needId())}`);
    break;
  case 'update':
    await call('PATCH', `keys/${encodeURIComponent(needId())}`, fieldsOf(values));
    break;
  case 'rotate':
    await call('POST', `keys/${encodeURIComponent(needId())}/rotate`, { graceSeconds: integer(values.grace, 'grace') ?? 0 });
    break;
  case 'revoke':
    await call('DELETE', `keys/${encodeURIComponent(needId())}`);
    break;
  default:
    fail(`unknown command "${command}"\n${USAGE}`);
}
