// GraphQL Code Generator's client preset with persisted documents, set up as its docs say.
// The paths come from the test (tests/clients/test_codegen_trusted_documents.py).
export default {
  schema: process.env.FTF_SCHEMA,
  documents: process.env.FTF_DOCUMENTS,
  generates: {
    [`${process.env.FTF_OUT}/`]: {
      preset: "client",
      presetConfig: { persistedDocuments: true },
    },
  },
};
