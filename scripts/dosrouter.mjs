#!/usr/bin/env node
// `pnpm dosrouter keys <command>` and `pnpm dosrouter usage`: the admin API for client keys and usage from a shell. Talks to DOSROUTER_URL (default
// http://127.0.0.1:8080) with DOSROUTER_ADMIN_KEY. Prints the API's JSON; exits 1 with the API's error message on
// failure. The secret of a created or rotated key is printed once, as the API returns it.
import { parseArgs } from 'node:util';

const USAGE = `usage: pnpm dosrouter keys <command> [options]
  create --name NAME [--model M]... [--owner k=v]... [--rpm N] [--tpm N] [--concurrency N] [--expires ISO-DATE]
         [--daily-usd X] [--monthly-usd X] [--soft-daily-usd X]
  list
  get ID
  update ID [--name NAME] [--model M]... [--all-models] [--rpm N] [--tpm N] [--concurrency N] [--expires ISO-DATE|never]
         [--daily-usd X] [--monthly-usd X] [--soft-daily-usd X]
  rotate ID [--grace SECONDS]
  revoke ID
       pnpm dosrouter usage [--key ID] [--model M] [--from DAY] [--to DAY] [--group-by key,model,day]
environment: DOSROUTER_URL (default http://127.0.0.1:8080), DOSROUTER_ADMIN_KEY (required)`;

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
  key: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  'group-by': { type: 'string' },
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
  if (values.expires === 'never') fields.expiresAt = null;
  else if (values.expires !== undefined) {
    const at = Date.parse(values.expires);
    if (Number.isNaN(at)) fail(`--expires must be a date such as 2027-01-31T00:00:00Z, got "${values.expires}"`);
    fields.expiresAt = at;
  }
  return fields;
}

async function call(method, path, body) {
  const adminKey = process.env.DOSROUTER_ADMIN_KEY;
  if (!adminKey) fail('set DOSROUTER_ADMIN_KEY to the gateway’s admin key');
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

const { values, positionals } = parseArgs({ options, allowPositionals: true, strict: true });
const [group, command, id] = positionals;
if (values.help || !((group === 'keys' && command !== undefined) || group === 'usage')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(values.help ? 0 : 1);
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
