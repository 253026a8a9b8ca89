import type { z } from 'zod';

export type ConfigPath = readonly PropertyKey[];

/** One thing wrong with a config file, at the path of the value it is about. */
export interface ConfigProblem {
  readonly path: ConfigPath;
  readonly message: string;
}

/** `backends[0].models[2].pricing.inputPerMTok`, the form every config message names a field in. */
export function formatConfigPath(path: ConfigPath): string {
  if (path.length === 0) return '(root)';
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(segment))) text += `${text === '' ? '' : '.'}${String(segment)}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

/** What this module reads of a zod schema's definition: the parts that lead from a schema to the ones inside it. */
interface SchemaDefinition {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
  readonly keyType?: z.ZodType;
  readonly valueType?: z.ZodType;
  /** An enum's values. */
  readonly entries?: Readonly<Record<string, string | number>>;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly options?: readonly z.ZodType[];
}

function definitionOf(schema: z.ZodType): SchemaDefinition {
  return schema._zod.def as unknown as SchemaDefinition;
}

/**
 * The schemas of the maps a value at `path` is checked against — objects, and records whose keys are an enum (several
 * under a union) — wrappers such as defaults removed.
 */
function mapSchemasAt(schema: z.ZodType, path: ConfigPath): SchemaDefinition[] {
  const definition = definitionOf(schema);
  switch (definition.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return mapSchemasAt(definition.innerType!, path);
    case 'pipe':
      return mapSchemasAt(definition.in!, path);
    case 'union':
      return definition.options!.flatMap((option) => mapSchemasAt(option, path));
  }
  if (path.length === 0) return definition.type === 'object' || definition.type === 'record' ? [definition] : [];
  const [segment, ...rest] = path;
  if (definition.type === 'object') {
    const field = definition.shape![String(segment)];
    return field === undefined ? [] : mapSchemasAt(field, rest);
  }
  if (definition.type === 'array' && typeof segment === 'number') return mapSchemasAt(definition.element!, rest);
  if (definition.type === 'record') return mapSchemasAt(definition.valueType!, rest);
  return [];
}

/** The keys the schema allows in the map at `path`: what a misspelt key is compared with. */
export function knownKeysAt(schema: z.ZodType, path: ConfigPath): string[] {
  return [...new Set(mapSchemasAt(schema, path).flatMap(keysOf))];
}

function keysOf(definition: SchemaDefinition): string[] {
  if (definition.shape !== undefined) return Object.keys(definition.shape);
  const entries = definition.keyType === undefined ? undefined : definitionOf(definition.keyType).entries;
  return entries === undefined ? [] : Object.values(entries).map(String);
}
