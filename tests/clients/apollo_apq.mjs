// Apollo Client's persisted-queries link against a running server, as an app sets it up:
//
//   node apollo_apq.mjs '{"url": ..., "operations": [...], "get": false, "accept": null}'
//
// Each operation ({"query", "variables", "mutation", "client"}) runs in turn, on the client
// numbered `client` (a new client is another browser: its link knows no hash yet). Prints
// one JSON object: each operation's result, and every HTTP request the link made.
import { createHash } from "node:crypto";

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const plan = JSON.parse(process.argv[2]);
const requests = [];

// SHA-256 from Node's crypto, as the link's docs suggest for a platform that has it.
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

async function recordingFetch(input, init = {}) {
  const response = await fetch(input, init);
  const url = new URL(typeof input === "string" ? input : input.url);
  let sent;
  if (init.body) {
    sent = JSON.parse(init.body);
  } else {
    sent = Object.fromEntries(url.searchParams);
    for (const key of ["variables", "extensions"]) {
      if (sent[key] !== undefined) sent[key] = JSON.parse(sent[key]);
    }
  }
  const answer = JSON.parse(await response.clone().text());
  requests.push({
    method: init.method ?? "GET",
    query: sent.query ?? null,
    persistedQuery: sent.extensions?.persistedQuery ?? null,
    status: response.status,
    cacheControl: response.headers.get("cache-control"),
    codes: (answer.errors ?? []).map((error) => error.extensions?.code ?? null),
  });
  return response;
}

function makeClient() {
  const http = new HttpLink({
    uri: `${plan.url}/graphql`,
    fetch: recordingFetch,
    ...(plan.accept ? { headers: { accept: plan.accept } } : {}),
  });
  const persisted = new PersistedQueryLink({ sha256, useGETForHashedQueries: plan.get });
  return new ApolloClient({ link: ApolloLink.from([persisted, http]), cache: new InMemoryCache() });
}

const clients = new Map();
const results = [];
for (const operation of plan.operations) {
  if (!clients.has(operation.client)) clients.set(operation.client, makeClient());
  const client = clients.get(operation.client);
  const document = gql(operation.query);
  const options = { variables: operation.variables ?? {}, errorPolicy: "all" };
  const result = operation.mutation
    ? await client.mutate({ mutation: document, ...options })
    : await client.query({ query: document, fetchPolicy: "network-only", ...options });
  results.push({
    data: result.data ?? null,
    error: result.error ? { name: result.error.name, message: result.error.message } : null,
  });
}
process.stdout.write(JSON.stringify({ results, requests }));
