/*
 * Starts GraphiQL on the server's page. A file of its own, not an inline
 * script, so the page's Content-Security-Policy can forbid inline scripts.
 * The page passes its settings as data attributes of #graphiql.
 */
(function () {
  "use strict";

  var root = document.getElementById("graphiql");
  var config = root.dataset;

  // Radix's scroll lock (dialogs) adds a <style> element: it carries this nonce,
  // the only inline style the page's policy allows.
  window.__webpack_nonce__ = config.styleNonce;

  // A share link: /graphql?query=...&variables=...&operationName=...
  // (`q` is what Strawberry's page wrote).
  var params = new URLSearchParams(window.location.search);
  var query = params.get("query") || params.get("q") || undefined;
  var variables = params.get("variables") || undefined;
  var operationName = params.get("operationName") || undefined;

  var fetcher = GraphiQL.createFetcher({ url: window.location.pathname });

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.defaultQuery,
      query: query,
      variables: variables,
      operationName: operationName,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      // Off unless GRAPHIQL_PERSIST_HEADERS=true: a pasted token stays out of localStorage.
      shouldPersistHeaders: config.persistHeaders === "true",
      inputValueDeprecation: true,
    })
  );
})();
