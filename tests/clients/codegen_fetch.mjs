// Runs operations GraphQL Code Generator's client preset generated, sent the way its docs show:
//
//   node codegen_fetch.mjs '{"url": ..., "generated": DIR, "operations": [...]}'
//
// Each operation is {"name": "SomeIds", "variables": {...}, "via": "extensions"|"documentId"}.
// The app imports `<Name>Document` from the generated `graphql.ts` (loaded here with jiti, as
// a bundler would) and posts only its `__meta__.hash`: as
// `extensions.persistedQuery.sha256Hash` (the preset's documented fetcher) or as
// `documentId` (the GraphQL-over-HTTP persisted-documents appendix). Prints one JSON array
// of what each answered.
import { createJiti } from "jiti";

const plan = JSON.parse(process.argv[2]);
const jiti = createJiti(import.meta.url);
const generated = await jiti.import(`${plan.generated}/graphql.ts`);

const answers = [];
for (const operation of plan.operations) {
  const document = generated[`${operation.name}Document`];
  const hash = document["__meta__"]["hash"];
  const body =
    operation.via === "documentId"
      ? { documentId: hash, variables: operation.variables }
      : { extensions: { persistedQuery: { version: 1, sha256Hash: hash } }, variables: operation.variables };
  const response = await fetch(`${plan.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  answers.push({ hash, status: response.status, body: await response.json() });
}
process.stdout.write(JSON.stringify(answers));
