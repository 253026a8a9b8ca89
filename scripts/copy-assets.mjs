// Copies the files tsc does not emit (the Lua scripts) next to the compiled JavaScript that loads them.
import { cpSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const assets = [['packages/shared/src/state/lua', 'packages/shared/dist/state/lua']];
for (const [from, to] of assets) {
  mkdirSync(`${root}${to}`, { recursive: true });
  cpSync(`${root}${from}`, `${root}${to}`, { recursive: true, filter: (path) => !path.endsWith('.test.ts') });
}
