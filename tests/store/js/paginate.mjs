// Auto-paginate one message list with the official openai Node SDK and report what happened.
//
// Usage: node paginate.mjs '{"baseURL": ".../v1", "threadId": "thread_…", "query": {...}}'
// Prints one JSON line: {"ids": [every message id the SDK yielded, in order],
//                        "requests": [the query of every list request it sent]}.
// Any SDK error (a 400 on page 2, say) exits non-zero with the error on stderr.
import OpenAI from "openai";

const { baseURL, threadId, query } = JSON.parse(process.argv[2]);
const requests = [];
const countingFetch = async (url, init) => {
  const sent = new URL(url);
  if (sent.pathname.endsWith(`/threads/${threadId}/messages`)) {
    requests.push(Object.fromEntries(sent.searchParams));
  }
  return fetch(url, init);
};
const client = new OpenAI({ baseURL, apiKey: "anything", maxRetries: 0, fetch: countingFetch });

const ids = [];
for await (const message of client.beta.threads.messages.list(threadId, query)) {
  ids.push(message.id);
}
process.stdout.write(JSON.stringify({ ids, requests }) + "\n");
