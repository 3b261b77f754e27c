// `npm run import -- products|accounts|blocklist FILE` (in the production image:
// `node dist/infra/reference-import-main.js products FILE`): loads reference data from a CSV file
// straight into MongoDB (MONGODB_URI, with the rest of the API's environment), with the same row
// validation and writes as POST /api/v1/imports/{kind}. Prints the report as JSON on stdout and a
// summary on stderr; exits 0 when every row was written or already so, 1 when a row was refused or
// the file unreadable, 2 on a usage error. Running processes see the changes within 30 s (their
// reference-data cache; docs/operations.md "Reference data").
import fs from 'node:fs';
import { REFERENCE_KINDS, type ReferenceKind } from '../domain/reference-data';
import { loadConfig } from './config';
import { connectDb } from './db';
import { referenceDataWriter } from './reference-data';
import { importReferenceCsv } from './reference-import';

const [kind, file] = process.argv.slice(2);
if (!REFERENCE_KINDS.includes(kind as ReferenceKind) || !file) {
  console.error(`usage: npm run import -- ${REFERENCE_KINDS.join('|')} FILE.csv`);
  process.exit(2);
}
if (!fs.existsSync(file)) {
  console.error(`import: no file ${file}`);
  process.exit(2);
}

const config = loadConfig();
const db = await connectDb(config.mongodbUri);
try {
  const report = await importReferenceCsv(kind as ReferenceKind, fs.createReadStream(file), referenceDataWriter(db.models));
  console.log(JSON.stringify(report, null, 2));
  const { rows, created, updated, unchanged, rejected } = report.counts;
  console.error(
    `import ${kind} ${file}: ${rows} rows, ${created} created, ${updated} updated, ${unchanged} unchanged, ${rejected} rejected` +
      (report.error ? `; stopped: ${report.error}` : ''),
  );
  for (const r of report.rejected) console.error(`  line ${r.line}${r.key ? ` (${r.key})` : ''}: ${r.reason}`);
  process.exitCode = report.error || rejected ? 1 : 0;
} finally {
  await db.close();
}
