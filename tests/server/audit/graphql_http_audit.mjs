// Runs the graphql-http audit suite (the GraphQL-over-HTTP specification's
// server audits) against one URL and prints the results as a JSON array of
// {id, name, status, reason} on stdout; status is "ok", or "error" (a MUST),
// "warn" (a SHOULD) or "notice" (a MAY) when the audit failed.
//
//   node graphql_http_audit.mjs http://127.0.0.1:8000/graphql [timeout-ms]
//
// Used by tests/server/test_graphql_http_audit.py; the package is pinned by
// package-lock.json here (`npm ci` in this directory).
import { auditServer } from 'graphql-http';

const [url, timeoutArg] = process.argv.slice(2);
if (!url) {
  console.error('usage: node graphql_http_audit.mjs URL [timeout-ms]');
  process.exit(2);
}
const timeout = Number(timeoutArg ?? 10000);

// Every request of every audit gives up after `timeout` milliseconds.
const fetchFn = (input, init = {}) =>
  fetch(input, { ...init, signal: AbortSignal.timeout(timeout) });

const results = await auditServer({ url, fetchFn });
const report = results.map(({ id, name, status, reason }) => ({
  id,
  name,
  status,
  reason: reason ?? null,
}));
process.stdout.write(JSON.stringify(report) + '\n');
