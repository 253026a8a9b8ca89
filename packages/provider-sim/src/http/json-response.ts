import type { ServerResponse } from 'node:http';

/** For routes outside /v1 (health, control), which are not counted in the simulator's stats. */
export function sendJsonResponse(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export function sendNoContent(response: ServerResponse): void {
  response.writeHead(204);
  response.end();
}
