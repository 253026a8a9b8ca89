/** Thrown when the session ended (401): the page goes back to the login form. */
export class LoggedOut extends Error {}

/** Reads one of the dashboard's JSON endpoints (same origin; the session cookie or Basic credentials go along). */
export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(`/dashboard/api/${path}`, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  return answer<T>(response);
}

export async function postJson<T>(path: string, body: string): Promise<T> {
  const response = await fetch(`/dashboard/api/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body, credentials: 'same-origin' });
  return answer<T>(response);
}

async function answer<T>(response: Response): Promise<T> {
  if (response.status === 401) throw new LoggedOut('logged out');
  const value = (await response.json()) as T & { error?: { message?: string } };
  if (!response.ok && value.error) throw new Error(value.error.message ?? `HTTP ${response.status}`);
  return value;
}
