// Peer for the sync benchmark: replicate the same documents PouchDB (in-memory) -> pouchdb-server.
// Usage: node peer.js DOCS.json REMOTE_DB_URL BATCH_SIZE
// Prints one JSON line: {"docs": N, "seconds": S}. Loading the local database is not timed.
'use strict';
const fs = require('fs');
const PouchDB = require('pouchdb');
PouchDB.plugin(require('pouchdb-adapter-memory'));

async function main() {
  const [file, remoteUrl, batch] = process.argv.slice(2);
  const docs = JSON.parse(fs.readFileSync(file, 'utf8'));
  const local = new PouchDB('bench-local', { adapter: 'memory' });
  for (let i = 0; i < docs.length; i += 5000) {
    await local.bulkDocs(docs.slice(i, i + 5000));
  }
  const remote = new PouchDB(remoteUrl);
  await remote.info(); // creates the database
  const t0 = process.hrtime.bigint();
  const res = await local.replicate.to(remote, { batch_size: Number(batch || 1000), batches_limit: 10 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const info = await remote.info();
  console.log(JSON.stringify({ docs: info.doc_count, docs_written: res.docs_written, seconds }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
