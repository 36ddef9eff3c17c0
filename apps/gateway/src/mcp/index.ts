export { McpRoutes } from './mcp.routes';
export { ProtectedResourceRoutes, protectedResourceMetadataUrl } from './protected-resource.routes';
export { MCP_MAX_RESULT_CHARS } from './mcp-tools';
