/** What the server knows of the client making a request, for sessions, limits and events. */
export interface RequestMeta {
  ip: string;
  userAgent: string | null;
}
