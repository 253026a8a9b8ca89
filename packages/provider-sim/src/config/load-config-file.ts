import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { simulatorOptionsSchema } from './simulator-options-schema.js';
import { errorMessage } from '../json-value.js';
import type { SimulatorOptions } from '../types.js';
import { describeIssues } from './describe-issues.js';

/** Reads a YAML (or JSON, which is YAML) config file holding SimulatorOptions fields; throws naming the bad field. */
export async function loadConfigFile(path: string): Promise<SimulatorOptions> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read simulator config ${path}: ${errorMessage(error)}`, { cause: error });
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new Error(`Simulator config ${path} is not valid YAML: ${errorMessage(error)}`, { cause: error });
  }
  const parsed = simulatorOptionsSchema.safeParse(document);
  if (!parsed.success) {
    throw new Error(`Invalid simulator config ${path}: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}
