/**
 * Drives MessagesClient against a running gateway and prints what it saw as JSON:
 *   node dist/src/demo.js http://127.0.0.1:8000/graphql
 * The test suite compiles and runs it against a real `messages-gateway serve`.
 */
import { MessagesClient } from "./client.js";

async function main(url: string): Promise<void> {
  const client = new MessagesClient(url);
  const threadId = await client.createThread({ metadata: { source: "typescript-demo" } });
  const posted = [];
  for (let i = 1; i <= 5; i++) posted.push(await client.postMessage(threadId, `message ${i}`));
  const first = posted[0];
  if (first === undefined) throw new Error("nothing posted");
  const marked = await client.setMetadata(threadId, first.id, { read: "yes" });
  const pages: string[][] = [];
  for await (const page of client.history(threadId, 2)) {
    pages.push(page.messages.map((m) => m.text));
  }
  const deleted = await client.deleteMessage(threadId, first.id);
  process.stdout.write(
    JSON.stringify({ threadId, pages, metadata: marked.metadata, deleted: deleted === first.id }) +
      "\n",
  );
}

const url = process.argv[2];
if (url === undefined) {
  process.stderr.write("usage: node dist/src/demo.js GRAPHQL_URL\n");
  process.exit(2);
}
main(url).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
