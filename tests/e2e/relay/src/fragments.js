// The documents a Relay chat UI writes: the sidebar (a @connection over viewer.threads,
// paginated through the Viewer's @refetchable query) and a thread's messages (a
// @refetchable pagination fragment on Thread, refetched through Query.node).
// relay-compiler reads the graphql`...` tags; nothing imports this file.
/* eslint-disable no-undef */

graphql`
  query SidebarQuery($count: Int!, $cursor: String) {
    viewer {
      subject
      ...Sidebar_viewer @arguments(count: $count, cursor: $cursor)
    }
  }
`;

graphql`
  fragment Sidebar_viewer on Viewer
  @argumentDefinitions(count: { type: "Int", defaultValue: 20 }, cursor: { type: "String" })
  @refetchable(queryName: "SidebarPaginationQuery") {
    threads(first: $count, after: $cursor) @connection(key: "Sidebar_threads") {
      edges {
        node {
          id
          createdAt
          lastActivityAt
          metadata
        }
      }
    }
  }
`;

graphql`
  query ThreadScreenQuery($id: ID!, $count: Int!, $cursor: String) {
    thread(id: $id) {
      id
      ...ThreadMessages_thread @arguments(count: $count, cursor: $cursor)
    }
  }
`;

graphql`
  fragment ThreadMessages_thread on Thread
  @argumentDefinitions(count: { type: "Int", defaultValue: 20 }, cursor: { type: "String" })
  @refetchable(queryName: "ThreadMessagesPaginationQuery") {
    messages(first: $count, after: $cursor, order: ASC)
      @connection(key: "ThreadMessages_messages") {
      edges {
        node {
          id
          text
        }
      }
    }
  }
`;
