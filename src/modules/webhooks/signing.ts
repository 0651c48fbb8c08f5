import { createHmac, randomBytes } from 'node:crypto';

/*
 * Signatures as the Standard Webhooks specification defines them: the secret is `whsec_` and
 * base64 key bytes; the signature is `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`.
 */

export function newSigningSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export function sign(secret: string, messageId: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${messageId}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}
