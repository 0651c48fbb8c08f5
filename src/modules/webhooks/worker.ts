import type { FastifyBaseLogger } from 'fastify';
import { uuidv7 } from 'uuidv7';
import type { WebhookConfig } from '../../config.js';
import type { Database } from '../../db/client.js';
import { type Keyring, SecretUnreadable } from '../../secrets/keyring.js';
import { presentAuditEvent } from '../audit-events/service.js';
import { claimDueDeliveries, type DueDelivery, recordAttempt } from './queries.js';
import { postMessage, type SendOutcome } from './sender.js';
import { openSigningSecret, sign } from './signing.js';
import type { TargetPolicy } from './targets.js';

const BATCH = 20;

/**
 * Works off the outbox inside the server process. Every instance runs one; row locks with SKIP
 * LOCKED make each delivery go to exactly one of them. Failed attempts are retried with
 * exponential backoff and full jitter until `maxAttempts`.
 */
export class WebhookWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly db: Database,
    private readonly config: WebhookConfig,
    private readonly policy: TargetPolicy,
    private readonly log: FastifyBaseLogger,
    /** Opens sealed signing secrets; null when the server has no secret key. */
    private readonly keyring: Keyring | null,
  ) {}

  start(): void {
    if (this.config.pollMs === 0 || !this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling and waits for the deliveries in flight, so none is left half recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Runs one round now (tests and `POST .../test` use it to avoid waiting for the next poll). */
  async runOnce(): Promise<number> {
    const due = await claimDueDeliveries(this.db, BATCH, this.config.timeoutMs + 30_000);
    await Promise.all(due.map((delivery) => this.deliver(delivery)));
    return due.length;
  }

  private schedule(delayMs: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => {
        this.running = null;
      });
    }, delayMs);
    this.timer.unref();
  }

  private async round() {
    let worked = 0;
    try {
      worked = await this.runOnce();
    } catch (error) {
      this.log.warn({ err: error }, 'webhook delivery round failed');
    }
    // A full batch means more may be due: go again at once.
    this.schedule(worked === BATCH ? 0 : this.config.pollMs);
  }

  /** Signs and sends one delivery; a secret that does not open fails the attempt unsent. */
  private async send(delivery: DueDelivery): Promise<SendOutcome> {
    let secret: string;
    try {
      secret = openSigningSecret(this.keyring, delivery.endpoint_id, delivery.secret);
    } catch (error) {
      if (!(error instanceof SecretUnreadable)) throw error;
      return { statusCode: null, error: `signing secret cannot be opened: ${error.message}`, durationMs: 0 };
    }
    const event = presentAuditEvent(delivery.event);
    const body = JSON.stringify({ type: event.action, timestamp: event.created_at, data: event });
    const timestamp = Math.floor(Date.now() / 1000);
    return postMessage(
      this.policy,
      delivery.url,
      {
        'user-agent': 'orgstack-webhooks/1',
        'webhook-id': delivery.event_id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': sign(secret, delivery.event_id, timestamp, body),
      },
      body,
      this.config.timeoutMs,
    );
  }

  private async deliver(delivery: DueDelivery) {
    const outcome = await this.send(delivery);
    const succeeded = outcome.error === null;
    const last = delivery.attempts >= this.config.maxAttempts;
    await this.db
      .transaction((tx) =>
        recordAttempt(tx, {
          endpointId: delivery.endpoint_id,
          eventId: delivery.event_id,
          attempt: delivery.attempts,
          attemptId: uuidv7(),
          ...outcome,
          succeeded,
          retryInMs: succeeded || last ? null : this.backoff(delivery.attempts),
          disableAfterFailures: this.config.disableAfterFailures,
        }),
      )
      .catch((error) =>
        this.log.warn({ err: error, event_id: delivery.event_id }, 'webhook attempt not recorded'),
      );
  }

  /** Exponential backoff with full jitter: somewhere in [0.5, 1] of base * 2^(attempt-1), capped at a day. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.config.retryBaseMs * 2 ** (attempt - 1), 86_400_000);
    return Math.round(ceiling * (0.5 + Math.random() / 2));
  }
}
