import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { formatConfigPath, knownKeysAt, type ConfigProblem } from './config-path.js';
import { didYouMean } from './did-you-mean.js';
import { interpolateYamlNode, type InterpolationSources } from './interpolate.js';
import { referenceProblems, type ReferenceOptions } from './references.js';
import { configSchema, type GatewayConfig } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  /** Every problem found, one line each (`path: message`); empty when the error is not about the content. */
  readonly problems: readonly string[];

  constructor(message: string, options?: ErrorOptions & { problems?: readonly string[] }) {
    super(message, options);
    this.problems = options?.problems ?? [];
  }
}

export interface ParseOptions extends ReferenceOptions {
  /** Reads `${file:…}` references; defaults to reading the file. */
  readonly readFile?: InterpolationSources['readFile'];
}

/**
 * Parses and validates a config document (YAML text). Throws one ConfigError that lists every problem found, each
 * naming its field: values that could not be interpolated, what the schema refuses (unknown keys with a near-miss
 * suggestion, wrong types and values) and names that refer to nothing. One pass, so that one restart fixes them all.
 */
export function parseConfig(text: string, source: string, environment: NodeJS.ProcessEnv = process.env, options: ParseOptions = {}): GatewayConfig {
  const yamlDocument = parseDocument(text);
  if (yamlDocument.errors.length > 0) {
    const first = yamlDocument.errors[0]!;
    // `{ port: ${PORT} }` is not valid YAML: `{` and `}` end a plain value in a flow collection.
    const hint = /[[{][^\n]*\$\{/.test(text) ? '\n(a ${…} reference inside { } or [ ] must be quoted, or the mapping written one key per line)' : '';
    throw new ConfigError(`${source}: ${first.message}${hint}`, { cause: first });
  }
  const problems: ConfigProblem[] = [];
  interpolateYamlNode(yamlDocument.contents, [], { environment, ...(options.readFile ? { readFile: options.readFile } : {}) }, problems);
  const document: unknown = yamlDocument.toJS() ?? {};
  const result = configSchema.safeParse(document);
  if (!result.success) {
    // A value that could not be interpolated is reported once, as that, not again as the empty value it became.
    const reported = new Set(problems.map((problem) => formatConfigPath(problem.path)));
    for (const problem of schemaProblems(result.error.issues)) {
      if (!reported.has(formatConfigPath(problem.path))) problems.push(problem);
    }
  }
  problems.push(...referenceProblems(document, options));
  if (problems.length > 0 || !result.success) {
    const lines = problems.map((problem) => `${formatConfigPath(problem.path)}: ${problem.message}`);
    throw new ConfigError(`${source}: invalid configuration\n${lines.map((line) => `  - ${line}`).join('\n')}`, { problems: lines });
  }
  return result.data;
}

export function loadConfigFile(path: string, environment: NodeJS.ProcessEnv = process.env, options: ParseOptions = {}): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseConfig(text, path, environment, options);
}

/** zod's issues as problems: one per unknown key, with the nearest allowed key when there is one. */
function schemaProblems(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  return issues.flatMap((issue): ConfigProblem[] => {
    if (issue.code !== 'unrecognized_keys') return [{ path: issue.path, message: issue.message }];
    const known = knownKeysAt(configSchema, issue.path);
    return issue.keys.map((key) => ({ path: [...issue.path, key], message: `unknown key${didYouMean(key, known)}` }));
  });
}
