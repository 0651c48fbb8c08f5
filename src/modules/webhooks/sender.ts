import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { hostOf, type TargetPolicy } from './targets.js';

export interface SendOutcome {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * POSTs one message. Redirects are not followed (a 3xx is a failure), the connection goes only to
 * addresses the policy permits, and the whole exchange has a deadline.
 */
export function postMessage(
  policy: TargetPolicy,
  target: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<SendOutcome> {
  const started = performance.now();
  const done = (statusCode: number | null, error: string | null): SendOutcome => ({
    statusCode,
    error,
    durationMs: Math.round(performance.now() - started),
  });
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      resolve(done(null, 'invalid URL'));
      return;
    }
    // A literal address never goes through `lookup`, so it is judged here.
    const host = hostOf(url);
    if (isIP(host) && !policy.permits(host)) {
      resolve(done(null, `${host} is an address webhooks may not reach`));
      return;
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing = send(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
        lookup: policy.guardedLookup(),
        timeout: timeoutMs,
      },
      (response) => {
        // The receiver's answer is not kept beyond its status; drain it so the socket is freed.
        response.resume();
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          resolve(done(status, status >= 200 && status < 300 ? null : `answered ${status}`));
        });
        response.on('error', (error) => resolve(done(response.statusCode ?? null, error.message)));
      },
    );
    const deadline = setTimeout(
      () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    outgoing.on('error', (error) => resolve(done(null, error.message.slice(0, 500))));
    outgoing.on('close', () => clearTimeout(deadline));
    outgoing.end(body);
  });
}
