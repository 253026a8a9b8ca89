import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type GatewayConfig } from './schema.js';
import { interpolateEnvironment } from './interpolate.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses and validates a config document (YAML text). Throws ConfigError naming the field and the problem. */
export function parseConfig(text: string, source: string, environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let document: unknown;
  try {
    document = parseYaml(interpolateEnvironment(text, environment));
  } catch (error) {
    throw new ConfigError(`${source}: ${(error as Error).message}`, { cause: error });
  }
  const result = configSchema.safeParse(document ?? {});
  if (!result.success) {
    throw new ConfigError(`${source}: invalid configuration\n${formatIssues(result.error.issues)}`);
  }
  checkReferences(result.data, source);
  return result.data;
}

export function loadConfigFile(path: string, environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseConfig(text, path, environment);
}

function formatIssues(issues: z.core.$ZodIssue[]): string {
  return issues.map((issue) => `  - ${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`).join('\n');
}

/** Cross-field checks the schema cannot express: unique names and aliases that point somewhere. */
function checkReferences(config: GatewayConfig, source: string): void {
  const problems: string[] = [];
  const backendNames = new Set<string>();
  const modelNames = new Set<string>();
  config.backends.forEach((backend, backendIndex) => {
    if (backendNames.has(backend.name)) problems.push(`backends.${backendIndex}.name: duplicate backend "${backend.name}"`);
    backendNames.add(backend.name);
    const servedHere = new Set<string>();
    backend.models.forEach((model, modelIndex) => {
      if (servedHere.has(model.name)) {
        problems.push(`backends.${backendIndex}.models.${modelIndex}.name: "${model.name}" is listed twice in backend "${backend.name}"`);
      }
      servedHere.add(model.name);
      modelNames.add(model.name);
    });
  });
  for (const [alias, target] of Object.entries(config.aliases)) {
    if (modelNames.has(alias)) problems.push(`aliases.${alias}: "${alias}" is already a model name`);
    if (!modelNames.has(target)) problems.push(`aliases.${alias}: no backend serves model "${target}"`);
  }
  if (problems.length > 0) {
    throw new ConfigError(`${source}: invalid configuration\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}
