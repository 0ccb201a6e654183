"""GraphQL documents shared by the schema tests."""

MESSAGE_FIELDS = """
fragment MessageFields on Message {
  id threadId role status text createdAt completedAt incompleteAt
  assistantId runId metadata
  incompleteDetails { reason }
  attachments { fileId tools }
  content {
    __typename
    ... on TextContent { value annotations { __typename
      ... on FileCitationAnnotation { text startIndex endIndex fileId }
      ... on FilePathAnnotation { text startIndex endIndex fileId } } }
    ... on ImageFileContent { fileId detail }
    ... on ImageUrlContent { url detail }
    ... on RefusalContent { refusal }
    ... on UnknownContent { type raw }
  }
}
"""

CREATE_THREAD = """
mutation($input: CreateThreadInput!) {
  createThread(input: $input) {
    thread { id createdAt metadata toolResources { codeInterpreter { fileIds }
             fileSearch { vectorStoreIds } } }
    userErrors { code message field }
  }
}
"""

CREATE_MESSAGE = (
    """
mutation($input: CreateMessageInput!) {
  createMessage(input: $input) { message { ...MessageFields } userErrors { code message field } }
}
"""
    + MESSAGE_FIELDS
)

PAGE = """
query($threadId: ID!, $first: Int, $after: String, $last: Int, $before: String,
      $order: SortOrder! = DESC, $runId: ID) {
  messages(threadId: $threadId, first: $first, after: $after, last: $last, before: $before,
           order: $order, runId: $runId) {
    edges { cursor node { id text } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
