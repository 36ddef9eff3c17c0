export * from './plugboard';
export * from './errors';
export * from './paginate';
// The contract types a caller of the SDK handles, so that it needs no other import.
export type {
  ApiKeyView,
  AuthorizeResult,
  ConnectionSnippets,
  ConnectionView,
  CreatedApiKey,
  ErrorCode,
  FieldIssue,
  HealthView,
  InvokeResponse,
  LoggedEventView,
  Page,
  ServiceView,
  WebhookDeliveryView,
  WebhookView,
  WebhookWithSecret,
} from '@plugboard/contracts';
