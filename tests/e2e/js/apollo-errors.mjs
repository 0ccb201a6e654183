// Apollo Client 4, as an application uses it, against a live gateway.
// Usage: node apollo-errors.mjs <graphql url>
// Runs one good query and two refused ones (a validation error, a variable that
// cannot be coerced) and prints what the application sees, as one JSON object:
// {"cases": {name: {ok, data?, errorClass?, graphQLErrors?, codes?, message?}}}.
// Judged by tests/e2e/test_js_clients.py; this script only reports.
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';

const url = process.argv[2];
if (!url) {
  console.error('usage: node apollo-errors.mjs <graphql url>');
  process.exit(2);
}

const client = new ApolloClient({
  link: new HttpLink({ uri: url }),
  cache: new InMemoryCache(),
  defaultOptions: { query: { fetchPolicy: 'no-cache' } },
});

const operations = {
  typename: { query: gql`query Typename { __typename }` },
  validation: { query: gql`query Validation { noSuchField }` },
  badVariable: {
    query: gql`
      query BadVariable($first: Int) {
        messages(threadId: "thread_000000000000000000000000", first: $first) {
          nodes { id }
        }
      }
    `,
    variables: { first: 'ten' },
  },
};

const cases = {};
for (const [name, operation] of Object.entries(operations)) {
  try {
    const result = await client.query(operation);
    cases[name] = { ok: true, data: result.data ?? null };
  } catch (error) {
    const seen = {
      ok: false,
      errorClass: error?.constructor?.name ?? typeof error,
      message: String(error?.message ?? error),
      graphQLErrors: CombinedGraphQLErrors.is(error),
      serverError: ServerError.is(error),
    };
    if (CombinedGraphQLErrors.is(error)) {
      seen.codes = error.errors.map((e) => e.extensions?.code ?? null);
      seen.messages = error.errors.map((e) => e.message);
      seen.hasData = error.data !== undefined;
    }
    if (ServerError.is(error)) {
      seen.status = error.statusCode;
    }
    cases[name] = seen;
  }
}
console.log(JSON.stringify({ cases }));
