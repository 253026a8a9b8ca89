import { isMap, isPair, isScalar, isSeq, parse as parseYaml, Scalar } from 'yaml';
import type { ConfigPath, ConfigProblem } from './config-path.js';
import { readSecretFile } from './secret-file.js';

export interface InterpolationSources {
  readonly environment: NodeJS.ProcessEnv;
  /** Reads a `${file:…}` reference; defaults to readSecretFile. */
  readonly readFile?: (path: string) => string;
}

/**
 * `${NAME}`, `${NAME:-default}` (an unset or empty variable takes the default), `${file:/run/secrets/x}` (the file's
 * text, trailing newline removed) and `$${…}` (the literal `${…}`).
 */
const REFERENCE = /\$(\$?)\{(?:file:([^}]+)|([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?)\}/g;

/**
 * Replaces the references in every string value of a parsed YAML document, in place, and returns what could not be
 * resolved, each with the path of its value. Only values are read — never comments, never keys — so a provider
 * commented out does not need its variables. A plain (unquoted) scalar that was one reference to a variable takes the
 * type its text has in YAML (`port: ${PORT}` is a number, `apiKey: ${KEY:-}` with KEY unset is null), as it would
 * have had written out; a file's text always stays a string.
 */
export function interpolateYamlNode(node: unknown, path: ConfigPath, sources: InterpolationSources, problems: ConfigProblem[]): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      interpolateYamlNode(pair.value, [...path, String(key)], sources, problems);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => interpolateYamlNode(item, [...path, index], sources, problems));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
    interpolateScalar(node, path, sources, problems);
  }
}

function interpolateScalar(node: Scalar, path: ConfigPath, sources: InterpolationSources, problems: ConfigProblem[]): void {
  const text = node.value as string;
  const readFile = sources.readFile ?? readSecretFile;
  let fromFile = false;
  const result = text.replace(REFERENCE, (whole, escape: string, file: string | undefined, name: string | undefined, fallback: string | undefined) => {
    if (escape) return whole.slice(1);
    if (file !== undefined) {
      fromFile = true;
      try {
        return readFile(file.trim());
      } catch (error) {
        problems.push({ path, message: `cannot read secret file ${file.trim()}: ${(error as Error).message}` });
        return '';
      }
    }
    const value = sources.environment[name!];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    problems.push({ path, message: `environment variable ${name} is not set` });
    return '';
  });
  const wholeValueIsOneVariable = /^\$\{[A-Za-z_][^}]*\}$/.test(text);
  node.value = !fromFile && wholeValueIsOneVariable && node.type === Scalar.PLAIN ? plainScalarValue(result) : result;
}

/** What YAML makes of an unquoted scalar: null, a boolean or a number; anything else stays the text. */
function plainScalarValue(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    const value: unknown = parseYaml(text);
    return value === null || typeof value === 'boolean' || typeof value === 'number' ? value : text;
  } catch {
    return text;
  }
}
