/**
 * Replaces `${NAME}` and `${NAME:-default}` in a config file's text with environment variables.
 * `$${NAME}` stays as the literal `${NAME}`. A variable that is unset and has no default is an error
 * that names it, so a missing secret stops the start instead of sending an empty credential.
 */
export function interpolateEnvironment(text: string, environment: NodeJS.ProcessEnv): string {
  const missing = new Set<string>();
  const result = text.replace(
    /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (whole, escape: string, name: string, fallback: string | undefined) => {
      if (escape) return whole.slice(1);
      const value = environment[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      missing.add(name);
      return '';
    },
  );
  if (missing.size > 0) {
    throw new Error(`environment variable${missing.size > 1 ? 's' : ''} not set: ${[...missing].join(', ')}`);
  }
  return result;
}
