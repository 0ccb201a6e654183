// Runs the documents relay-compiler generated (__generated__/) against a live gateway
// through relay-runtime itself: an Environment with a fetch network, the first page
// by the screen's query, every later page by the @refetchable pagination query, and
// the connection read back from the store through its fragment, so Relay's own
// connection handler has merged the pages.
//
//   node run-relay.mjs <graphql url> <bearer token or ""> <thread id> <page size>
// prints one JSON object: the sidebar's and the thread's pages, as Relay saw them.
import relay from "relay-runtime";

import SidebarQuery from "./__generated__/SidebarQuery.graphql.js";
import SidebarPaginationQuery from "./__generated__/SidebarPaginationQuery.graphql.js";
import SidebarViewer from "./__generated__/Sidebar_viewer.graphql.js";
import ThreadScreenQuery from "./__generated__/ThreadScreenQuery.graphql.js";
import ThreadMessagesPaginationQuery from "./__generated__/ThreadMessagesPaginationQuery.graphql.js";
import ThreadMessagesThread from "./__generated__/ThreadMessages_thread.graphql.js";

const {
  Environment,
  Network,
  RecordSource,
  Store,
  createOperationDescriptor,
  fetchQuery,
  getRequest,
  getSelector,
} = relay;

const [url, token, threadId, pageSize] = process.argv.slice(2);
const count = Number(pageSize);
const operations = [];

const network = Network.create(async (params, variables) => {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: params.text, variables }),
  });
  const json = await response.json();
  if (json.errors) {
    throw new Error(`${params.name}: ${JSON.stringify(json.errors)}`);
  }
  operations.push(params.name);
  return json;
});
const environment = new Environment({ network, store: new Store(new RecordSource()) });

async function run(query, variables) {
  environment.retain(createOperationDescriptor(getRequest(query), variables));
  return fetchQuery(environment, query, variables).toPromise();
}

// Pages a connection: the first page by `query`, then `pagination` from the end
// cursor Relay read, until it says there is no next page.
async function paginate(query, variables, refOf, fragment, connectionOf, pagination, extra) {
  const data = await run(query, variables);
  const selector = getSelector(fragment, refOf(data));
  const read = () => connectionOf(environment.lookup(selector).data);
  const pages = [read().edges.length];
  for (let guard = 0; read().pageInfo.hasNextPage && guard < 20; guard += 1) {
    await run(pagination, { ...extra, count, cursor: read().pageInfo.endCursor });
    pages.push(read().edges.length - pages.reduce((a, b) => a + b, 0));
  }
  const connection = read();
  return { data, pages, edges: connection.edges, pageInfo: connection.pageInfo };
}

const sidebar = await paginate(
  SidebarQuery,
  { count },
  (data) => data.viewer,
  SidebarViewer,
  (data) => data.threads,
  SidebarPaginationQuery,
  {},
);
const thread = await paginate(
  ThreadScreenQuery,
  { id: threadId, count },
  (data) => data.thread,
  ThreadMessagesThread,
  (data) => data.messages,
  ThreadMessagesPaginationQuery,
  { id: threadId },
);

console.log(
  JSON.stringify({
    subject: sidebar.data.viewer.subject,
    sidebar: {
      pages: sidebar.pages,
      ids: sidebar.edges.map((edge) => edge.node.id),
      lastActivityAt: sidebar.edges.map((edge) => edge.node.lastActivityAt),
      hasNextPage: sidebar.pageInfo.hasNextPage,
    },
    thread: {
      pages: thread.pages,
      texts: thread.edges.map((edge) => edge.node.text),
      hasNextPage: thread.pageInfo.hasNextPage,
    },
    operations,
  }),
);
