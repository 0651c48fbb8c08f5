// Repairs three faults of postgres.js 3.4.9 that upstream has not released fixes for; run after
// every install (npm's postinstall). Each leaves the server broken after PostgreSQL restarts:
//
// 1. A connection whose socket closes while a write is buffered keeps a cancelled flush timer that
//    is never cleared, so nothing it writes afterwards is ever sent: every query handed to it
//    waits for connect_timeout, again and again. Teardown now forgets the timer and the buffer.
// 2. A flush that finds the socket gone throws outside any promise and ends the process; it now
//    fails the connection's queries instead.
// 3. The array-type lookup each new connection runs is a promise nobody awaits: a connection lost
//    during it is an unhandled rejection, which ends the process. Its failure is already reported
//    to the connection's queries, so the promise's own rejection is dropped.
//
// The edits are exact: a driver whose text differs (another version) stops the install here, so
// that an upgrade is checked against these faults rather than silently shipped without them.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VERSION = '3.4.9';
const driver = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'postgres');

const EDITS = [
  {
    fault: 'flush after the socket is gone',
    before: '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n',
    after:
      '  function nextWrite(fn) {\n' +
      '    if (!socket) {\n' +
      '      chunk = nextWriteTimer = null\n' +
      "      error(Errors.connection('CONNECTION_CLOSED', options))\n" +
      '      return false\n' +
      '    }\n' +
      '    const x = socket.write(chunk, fn)\n',
  },
  {
    fault: 'flush timer kept by terminate',
    before: '    clearImmediate(nextWriteTimer)\n    if (socket) {\n',
    after: '    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n    if (socket) {\n',
  },
  {
    fault: 'flush timer kept by close',
    before: '    socket.removeAllListeners()\n    socket = null\n\n',
    after: '    socket.removeAllListeners()\n    socket = null\n    chunk = nextWriteTimer = null\n\n',
  },
  {
    fault: 'unawaited array-type lookup',
    before: '        return fetchArrayTypes()\n',
    after: '        return fetchArrayTypes().catch(() => { /* reported to the queries by error() */ })\n',
  },
];

function fail(message) {
  process.stderr.write(`scripts/patch-postgres.mjs: ${message}\n`);
  process.exit(1);
}

if (!existsSync(driver)) process.exit(0); // not installed (yet): nothing to repair
const { version } = JSON.parse(readFileSync(join(driver, 'package.json'), 'utf8'));
if (version !== VERSION) {
  fail(
    `postgres ${version} is installed; these repairs were written for ${VERSION}. Check whether the ` +
      'new version still has the faults described at the top of this script, then update or remove it.',
  );
}

for (const build of ['src', 'cjs/src', 'cf/src']) {
  const file = join(driver, build, 'connection.js');
  if (!existsSync(file)) continue;
  let text = readFileSync(file, 'utf8');
  for (const edit of EDITS) {
    if (text.includes(edit.after)) continue;
    const at = text.indexOf(edit.before);
    if (at === -1 || text.indexOf(edit.before, at + 1) !== -1) {
      fail(`${build}/connection.js does not read as expected where it repairs the ${edit.fault}`);
    }
    text = text.replace(edit.before, edit.after);
  }
  writeFileSync(file, text);
}
