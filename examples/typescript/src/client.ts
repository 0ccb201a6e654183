/**
 * A small typed client for messages-gateway, on `fetch` alone.
 *
 * Every operation's document, result type and variables type come from
 * GraphQL Code Generator (`npm run codegen`, see codegen.yml): `request()` infers
 * the result type from the document, so a renamed field in schema.graphql or in
 * ../operations breaks `tsc --noEmit` here instead of a chat view at run time.
 */
import type { DocumentTypeDecoration } from "@graphql-typed-document-node/core";

import {
  CreateThreadDocument,
  DeleteMessageDocument,
  OlderMessagesDocument,
  PostMessageDocument,
  ThreadWithLastMessagesDocument,
  UpdateMessageMetadataDocument,
} from "../generated/operations.js";
import type {
  CreateThreadMutationVariables,
  MessageFieldsFragment,
  OlderMessagesQuery,
  PageInfoFieldsFragment,
  ThreadWithLastMessagesQuery,
  UserErrorCode,
} from "../generated/operations.js";
import type { CreateThreadInput, MessageRole } from "../generated/schema.js";

/** One entry of a GraphQL response's `errors`, as messages-gateway sends them. */
export interface GatewayErrorEntry {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string; retryAfter?: number; [key: string]: unknown };
}

/** The response had `errors` (a field failed, the upstream was down, bad input...). */
export class GatewayError extends Error {
  readonly errors: readonly GatewayErrorEntry[];
  readonly codes: readonly (string | undefined)[];

  constructor(errors: readonly GatewayErrorEntry[]) {
    super(errors.map((e) => e.message).join("; ") || "GraphQL error");
    this.name = "GatewayError";
    this.errors = errors;
    this.codes = errors.map((e) => e.extensions?.code);
  }
}

/** A mutation's expected failure (`userErrors`): invalid input or not found. */
export class UserInputError extends Error {
  readonly code: UserErrorCode;
  readonly field: readonly string[] | null;

  constructor(error: { code: UserErrorCode; message: string; field: string[] | null }) {
    super(error.message);
    this.name = "UserInputError";
    this.code = error.code;
    this.field = error.field;
  }
}

export type Message = MessageFieldsFragment;
export type PageInfo = PageInfoFieldsFragment;
export type Thread = NonNullable<ThreadWithLastMessagesQuery["thread"]>;

/** A page of messages in chronological order, and where to continue towards older ones. */
export interface ChatPage {
  messages: Message[];
  /** Pass to `olderMessages` to load the page just before this one; null when there is none. */
  olderCursor: string | null;
}

export interface ClientOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  fetch?: typeof fetch;
}

export class MessagesClient {
  private readonly url: string;
  private readonly token: string | undefined;
  private readonly fetchImpl: typeof fetch;

  /** `url` is the GraphQL endpoint, e.g. http://127.0.0.1:8000/graphql. */
  constructor(url: string, options: ClientOptions = {}) {
    this.url = url;
    this.token = options.token;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Runs one operation; its result type follows from the generated document. */
  async request<TResult, TVariables>(
    document: DocumentTypeDecoration<TResult, TVariables> & { toString(): string },
    variables: TVariables,
  ): Promise<TResult> {
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json, application/json",
    };
    if (this.token !== undefined) headers["Authorization"] = `Bearer ${this.token}`;
    const response = await this.fetchImpl(this.url, {
      method: "POST",
      headers,
      body: JSON.stringify({ query: document.toString(), variables }),
    });
    const body = (await response.json()) as { data?: TResult | null; errors?: GatewayErrorEntry[] };
    if (body.errors !== undefined && body.errors.length > 0) throw new GatewayError(body.errors);
    if (body.data === undefined || body.data === null) {
      throw new GatewayError([{ message: `HTTP ${response.status} without data` }]);
    }
    return body.data;
  }

  async createThread(input: CreateThreadInput = {}): Promise<string> {
    const variables: CreateThreadMutationVariables = { input };
    const { createThread } = await this.request(CreateThreadDocument, variables);
    const [error] = createThread.userErrors;
    if (error !== undefined || createThread.thread === null) {
      throw new UserInputError(error ?? { code: "INVALID", message: "no thread", field: null });
    }
    return createThread.thread.id;
  }

  async postMessage(threadId: string, text: string, role: MessageRole = "USER"): Promise<Message> {
    const { createMessage } = await this.request(PostMessageDocument, { threadId, text, role });
    const [error] = createMessage.userErrors;
    if (error !== undefined || createMessage.message === null) {
      throw new UserInputError(error ?? { code: "INVALID", message: "no message", field: null });
    }
    return createMessage.message;
  }

  async setMetadata(threadId: string, id: string, metadata: Record<string, string>): Promise<Message> {
    const { updateMessage } = await this.request(UpdateMessageMetadataDocument, {
      threadId,
      id,
      metadata,
    });
    const [error] = updateMessage.userErrors;
    if (error !== undefined || updateMessage.message === null) {
      throw new UserInputError(error ?? { code: "INVALID", message: "no message", field: null });
    }
    return updateMessage.message;
  }

  async deleteMessage(threadId: string, id: string): Promise<string> {
    const { deleteMessage } = await this.request(DeleteMessageDocument, { threadId, id });
    const [error] = deleteMessage.userErrors;
    if (error !== undefined || deleteMessage.deletedMessageId === null) {
      throw new UserInputError(error ?? { code: "INVALID", message: "not deleted", field: null });
    }
    return deleteMessage.deletedMessageId;
  }

  /** The thread and its newest `count` messages, oldest first (as a chat view shows them). */
  async openThread(id: string, count = 20): Promise<{ thread: Thread; page: ChatPage } | null> {
    const { thread } = await this.request(ThreadWithLastMessagesDocument, { id, count });
    if (thread === null) return null;
    const connection = thread.messages;
    return {
      thread,
      page: {
        messages: [...connection.nodes].reverse(),
        olderCursor: connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null,
      },
    };
  }

  /** The `count` messages just before `before` (oldest first): scrolling up. */
  async olderMessages(threadId: string, before: string, count = 20): Promise<ChatPage> {
    const result: OlderMessagesQuery = await this.request(OlderMessagesDocument, {
      threadId,
      before,
      count,
    });
    const { edges, pageInfo } = result.messages;
    return {
      messages: edges.map((edge) => edge.node),
      olderCursor: pageInfo.hasPreviousPage ? pageInfo.startCursor : null,
    };
  }

  /** Every message of a thread, oldest first, fetched page by page towards the oldest. */
  async *history(threadId: string, pageSize = 20): AsyncGenerator<ChatPage> {
    const opened = await this.openThread(threadId, pageSize);
    if (opened === null) return;
    let page = opened.page;
    yield page;
    while (page.olderCursor !== null) {
      page = await this.olderMessages(threadId, page.olderCursor, pageSize);
      yield page;
    }
  }
}
