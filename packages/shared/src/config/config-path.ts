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
  readonly valueType?: z.ZodType;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly options?: readonly z.ZodType[];
}

function definitionOf(schema: z.ZodType): SchemaDefinition {
  return schema._zod.def as unknown as SchemaDefinition;
}

/** The object schemas a value at `path` is checked against (several under a union), wrappers such as defaults removed. */
function objectSchemasAt(schema: z.ZodType, path: ConfigPath): SchemaDefinition[] {
  const definition = definitionOf(schema);
  switch (definition.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return objectSchemasAt(definition.innerType!, path);
    case 'pipe':
      return objectSchemasAt(definition.in!, path);
    case 'union':
      return definition.options!.flatMap((option) => objectSchemasAt(option, path));
  }
  if (path.length === 0) return definition.type === 'object' ? [definition] : [];
  const [segment, ...rest] = path;
  if (definition.type === 'object') {
    const field = definition.shape![String(segment)];
    return field === undefined ? [] : objectSchemasAt(field, rest);
  }
  if (definition.type === 'array' && typeof segment === 'number') return objectSchemasAt(definition.element!, rest);
  if (definition.type === 'record') return objectSchemasAt(definition.valueType!, rest);
  return [];
}

/** The keys the schema allows in the object at `path`: what a misspelt key is compared with. */
export function knownKeysAt(schema: z.ZodType, path: ConfigPath): string[] {
  return [...new Set(objectSchemasAt(schema, path).flatMap((definition) => Object.keys(definition.shape ?? {})))];
}
