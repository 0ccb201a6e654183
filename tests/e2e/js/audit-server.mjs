// The graphql-http server audits (GraphQL-over-HTTP spec) against a live gateway.
// Usage: node audit-server.mjs <graphql url>
// Prints one JSON object: {"results": [{id, name, status, reason, httpStatus, contentType}]}.
// Driven and judged by tests/e2e/test_graphql_over_http.py; this script only reports.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit-server.mjs <graphql url>');
  process.exit(2);
}

const results = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    entry.reason = result.reason;
    entry.httpStatus = result.response.status;
    entry.contentType = result.response.headers.get('content-type');
  }
  results.push(entry);
}
console.log(JSON.stringify({ results }));
