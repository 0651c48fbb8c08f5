#!/usr/bin/env node
import { buildApp, loggerOptions } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/open.js';
import { createAdminKey, ensureAdminKey } from './modules/api-keys/service.js';
import { resealSecrets, sealClearWebhookSecrets } from './secrets/reseal.js';
import { openKeyring } from './secrets/setup.js';

const USAGE = `Usage: orgstack [serve|migrate|create-admin-key|reseal-secrets|openapi]
  serve              start the HTTP server (default)
  migrate            apply database migrations and exit
  create-admin-key   create an admin API key, print it once and exit
                     (with the embedded database, stop the server first)
  reseal-secrets     re-encrypt stored secrets under the current ORGSTACK_SECRET_KEY and exit
                     (after a key rotation; with the embedded database, stop the server first)
  openapi            print the OpenAPI document and exit`;

function announceAdminKey(secret: string, port: number) {
  // Printed once, straight to the terminal and never through the logger: this is the only copy.
  process.stdout.write(
    [
      '',
      '  orgstack created the first admin API key. It is shown only this once; store it now:',
      '',
      `    ${secret}`,
      '',
      '  Try it:',
      `    curl -H "Authorization: Bearer ${secret}" http://localhost:${port}/v1/me`,
      '',
      '',
    ].join('\n'),
  );
}

async function serve() {
  const config = loadConfig();
  const db = await openDatabase(config);
  // After the database: that step creates the data directory the key file may go in.
  const { keyring, generatedFile } = openKeyring(config);
  const sealed = keyring ? await sealClearWebhookSecrets(db, keyring) : 0;
  // A configured key must work from the first request on.
  if (config.adminKey) await ensureAdminKey({ db }, config.adminKey);
  const app = await buildApp({ config, db, keyring, logger: loggerOptions(config.logLevel) });
  if (generatedFile) {
    app.log.warn(
      { file: generatedFile },
      'generated a secret key for secrets at rest; back it up with the data directory (or set ORGSTACK_SECRET_KEY)',
    );
  }
  if (sealed > 0) app.log.info({ endpoints: sealed }, 'sealed webhook signing secrets stored in clear');
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // In-flight requests get until the deadline; then the process goes anyway.
    const deadline = setTimeout(() => process.exit(1), config.http.shutdownTimeoutMs);
    deadline.unref();
    await app.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ConfigError(
      'PORT',
      `cannot listen on ${config.host}:${config.port} (${code ?? String(error)})`,
    );
  }
  // Only once the server listens: a key generated before a failed listen would be stored but never
  // shown, and no later start would generate another.
  if (!config.adminKey) {
    const generated = await ensureAdminKey({ db }, undefined);
    if (generated) announceAdminKey(generated, config.port);
  }
}

async function main(command: string | undefined) {
  switch (command ?? 'serve') {
    case 'serve':
      return serve();
    case 'migrate': {
      const db = await openDatabase(loadConfig());
      await db.close();
      process.stdout.write('migrations applied\n');
      return;
    }
    case 'create-admin-key': {
      const db = await openDatabase(loadConfig());
      try {
        const key = await createAdminKey({ db }, process.argv[3] || 'created by create-admin-key');
        process.stdout.write(`${key.secret}\n`);
      } finally {
        await db.close();
      }
      return;
    }
    case 'reseal-secrets': {
      const config = loadConfig();
      const db = await openDatabase(config);
      try {
        const { keyring } = openKeyring(config);
        if (!keyring) throw new ConfigError('ORGSTACK_SECRET_KEY', 'must be set to reseal secrets');
        const report = await resealSecrets(db, keyring);
        process.stdout.write(
          `resealed ${report.integrations} integrations and ${report.webhookEndpoints} webhook endpoints under key ${keyring.currentKeyId}\n`,
        );
      } finally {
        await db.close();
      }
      return;
    }
    case 'openapi': {
      const config = { ...loadConfig(), databaseUrl: undefined };
      const { openPglite } = await import('./db/client.js');
      const db = await openPglite(undefined);
      const app = await buildApp({ config, db, keyring: null });
      await app.ready();
      process.stdout.write(`${JSON.stringify(app.swagger(), null, 2)}\n`);
      await app.close();
      await db.close();
      return;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      process.exit(2);
  }
}

main(process.argv[2]).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`orgstack: configuration error: ${error.message}\n`);
  } else {
    process.stderr.write(
      `orgstack: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
