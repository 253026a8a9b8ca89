import type { z } from 'zod';

/** Turns a zod failure into one line that names every bad field, e.g. `models.0.outputTokens: Too small …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
