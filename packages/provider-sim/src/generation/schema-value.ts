import { isJsonValue, isRecord, type JsonValue } from '../json-value.js';
import { randomInteger, type RandomSource } from './seeded-random.js';
import { pickWord } from './text-generator.js';

/** Deep enough for realistic tool schemas; beyond it objects come back empty so a recursive schema cannot loop. */
const MAXIMUM_DEPTH = 4;

function schemaType(schema: Record<string, unknown>): string | undefined {
  const declared = schema['type'];
  if (typeof declared === 'string') {
    return declared;
  }
  if (Array.isArray(declared)) {
    const firstNonNull = declared.find((type): type is string => typeof type === 'string' && type !== 'null');
    return firstNonNull ?? 'null';
  }
  if (isRecord(schema['properties'])) {
    return 'object';
  }
  if (schema['items'] !== undefined) {
    return 'array';
  }
  return undefined;
}

/**
 * A small value that satisfies a JSON schema: every declared property is filled, strings with a word, numbers with
 * an integer, booleans with true, arrays with one item. `const`, `enum` and the first `anyOf`/`oneOf` branch win.
 */
export function generateValueFromSchema(schema: unknown, random: RandomSource, depth = 0): JsonValue {
  if (!isRecord(schema)) {
    return pickWord(random);
  }
  if ('const' in schema && isJsonValue(schema['const'])) {
    return schema['const'];
  }
  const enumValues = schema['enum'];
  if (Array.isArray(enumValues) && enumValues.length > 0 && isJsonValue(enumValues[0])) {
    return enumValues[0];
  }
  const branches = schema['anyOf'] ?? schema['oneOf'];
  if (Array.isArray(branches) && branches.length > 0) {
    return generateValueFromSchema(branches[0], random, depth);
  }
  switch (schemaType(schema)) {
    case 'object':
      return generateObject(schema, random, depth);
    case 'array':
      return depth >= MAXIMUM_DEPTH ? [] : [generateValueFromSchema(schema['items'], random, depth + 1)];
    case 'integer':
    case 'number':
      return randomInteger(random, 1, 100);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return pickWord(random);
  }
}

function generateObject(schema: Record<string, unknown>, random: RandomSource, depth: number): JsonValue {
  const result: { [key: string]: JsonValue } = {};
  const properties = schema['properties'];
  if (!isRecord(properties) || depth >= MAXIMUM_DEPTH) {
    return result;
  }
  for (const [name, propertySchema] of Object.entries(properties)) {
    result[name] = generateValueFromSchema(propertySchema, random, depth + 1);
  }
  return result;
}
