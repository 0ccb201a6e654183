// Starts GraphiQL on the page served by gateway/graphiql: the configuration (the
// GraphQL endpoint and the default query) comes from the JSON block in the page.
// Subscriptions go over WebSocket (graphql-transport-ws) to the same endpoint,
// ws:// beside http://, wss:// beside https://: the graphql-ws client is bundled in
// graphiql.min.js, which creates it for `subscriptionUrl`, and the headers editor's
// JSON becomes the connection_init payload ({"authorization": "Bearer …"}).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var endpoint = new URL(config.endpoint, window.location.href);
  var subscriptionUrl = new URL(endpoint.toString());
  subscriptionUrl.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  subscriptionUrl.hash = "";
  var fetcher = GraphiQL.createFetcher({
    url: endpoint.toString(),
    subscriptionUrl: subscriptionUrl.toString(),
  });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.defaultQuery,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }),
  );
})();
