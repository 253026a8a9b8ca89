import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * `Expect: 100-continue` (curl sends it with bodies over 1 MB): Node would answer "100 Continue" before any handler
 * ran, inviting a body that the gateway may refuse from the headers alone (401, 404, 413, 415). Here the invitation
 * goes out only when a handler starts reading the body; a request refused before that gets its final answer
 * instead, and its client does not send the body at all.
 */
export function continueWhenBodyIsRead(server: Server): void {
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    const invite = (event: string | symbol): void => {
      if (event !== 'data' && event !== 'readable') return;
      request.off('newListener', invite);
      if (!response.headersSent) response.writeContinue();
    };
    request.on('newListener', invite);
    server.emit('request', request, response);
  });
}
