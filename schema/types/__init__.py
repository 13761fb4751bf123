"""One module per node type: its GraphQL type, filter, order, inputs, queries and mutations."""
