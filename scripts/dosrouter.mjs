#!/usr/bin/env node
// `pnpm dosrouter keys <command>`: the admin API for client keys from a shell. Talks to DOSROUTER_URL (default
// http://127.0.0.1:8080) with DOSROUTER_ADMIN_KEY. Prints the API's JSON; exits 1 with the API's error message on
// failure. The secret of a created or rotated key is printed once, as the API returns it.
import { parseArgs } from 'node:util';

const USAGE = `usage: pnpm dosrouter keys <command> [options]
  create --name NAME [--model M]... [--owner k=v]... [--rpm N] [--tpm N] [--concurrency N] [--expires ISO-DATE]
  list
  get ID
  update ID [--name NAME] [--model M]... [--all-models] [--rpm N] [--tpm N] [--concurrency N] [--expires ISO-DATE|never]
  rotate ID [--grace SECONDS]
  revoke ID
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
    response = await fetch(`${base}/admin/keys${path}`, {
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
if (values.help || group !== 'keys' || command === undefined) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(values.help ? 0 : 1);
}
const needId = () => id ?? fail(`${command} needs a key id`);
switch (command) {
  case 'create':
    if (values.name === undefined) fail('create needs --name');
    await call('POST', '', fieldsOf(values));
    break;
  case 'list':
    await call('GET', '');
    break;
  case 'get':
    await call('GET', `/${encodeURIComponent(needId())}`);
    break;
  case 'update':
    await call('PATCH', `/${encodeURIComponent(needId())}`, fieldsOf(values));
    break;
  case 'rotate':
    await call('POST', `/${encodeURIComponent(needId())}/rotate`, { graceSeconds: integer(values.grace, 'grace') ?? 0 });
    break;
  case 'revoke':
    await call('DELETE', `/${encodeURIComponent(needId())}`);
    break;
  default:
    fail(`unknown command "${command}"\n${USAGE}`);
}
