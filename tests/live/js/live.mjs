// Real graphql-ws and graphql-sse clients against a live gateway; prints one JSON value.
// Usage: node live.mjs <base url> <ws|sse>
// A seed message is written first and the subscription resumes after it, so the ten
// writes that follow may race the subscription's start: all ten must arrive, in order.
import { createClient as createWsClient } from "graphql-ws";
import { createClient as createSseClient } from "graphql-sse";
import WebSocket from "ws";

const [base, transport] = process.argv.slice(2);
const HANG_MS = 15000;

async function graphql(query, variables) {
  const answer = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await answer.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function viaGraphql(threadId, text) {
  const data = await graphql(
    "mutation($t: ID!, $x: String!) { createMessage(input: {threadId: $t, role: USER, content: [{text: $x}]}) { message { id } } }",
    { t: threadId, x: text },
  );
  return data.createMessage.message.id;
}

async function viaRest(threadId, text) {
  const answer = await fetch(`${base}/v1/threads/${threadId}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "openai-beta": "assistants=v2" },
    body: JSON.stringify({ role: "assistant", content: text }),
  });
  return (await answer.json()).id;
}

function subscriber() {
  if (transport === "ws") {
    const client = createWsClient({
      url: base.replace(/^http/, "ws") + "/graphql",
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    return { client, dispose: () => client.dispose() };
  }
  const client = createSseClient({ url: `${base}/graphql`, singleConnection: false, retryAttempts: 0 });
  return { client, dispose: () => client.dispose() };
}

const threadId = (await graphql("mutation { createThread(input: {}) { thread { id } } }"))
  .createThread.thread.id;
const seed = await viaGraphql(threadId, "seed");
const { client, dispose } = subscriber();
const received = [];
const arrivals = new Map();
const done = new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`hang: got ${received.length}`)), HANG_MS);
  client.subscribe(
    {
      query:
        "subscription($t: ID!, $a: ID) { threadEvents(threadId: $t, after: $a) { __typename ... on MessageCreated { message { id text } } } }",
      variables: { t: threadId, a: seed },
    },
    {
      next: (value) => {
        if (value.errors) return reject(new Error(JSON.stringify(value.errors)));
        const id = value.data.threadEvents.message.id;
        received.push(id);
        arrivals.set(id, performance.now());
        if (received.length === 10) {
          clearTimeout(timer);
          resolve();
        }
      },
      error: (error) => reject(error instanceof Error ? error : new Error(String(error?.reason ?? error))),
      complete: () => {},
    },
  );
});
const sent = [];
const acknowledged = new Map();
for (let i = 0; i < 5; i++) {
  for (const write of [viaRest, viaGraphql]) {
    const id = await write(threadId, `${write.name} ${i}`);
    acknowledged.set(id, performance.now());
    sent.push(id);
  }
}
await done;
await dispose();
const lagsMs = sent.map((id) => Math.max(0, arrivals.get(id) - acknowledged.get(id)));
console.log(JSON.stringify({ transport, sent, received, lagsMs }));
