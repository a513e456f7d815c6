export type { SigningAlgorithm } from "./access-token.js";
export { isSigningAlgorithm, MAX_TOKEN_LENGTH, SIGNING_ALGORITHMS } from "./access-token.js";
export { parseBearer } from "./bearer.js";
export type { ErrorBody, ErrorCode } from "./error-codes.js";
export { ERROR_CODES, ERROR_STATUS, isErrorCode } from "./error-codes.js";
export {
  ACCESS_TOKEN_HEADER,
  ACCESS_TOKEN_TYPE,
  CSRF_HEADER,
  DEFAULT_CLIENT_ID,
  P256_ORDER,
  PATHS,
  REFRESH_COOKIE_HOST_NAME,
  REFRESH_COOKIE_PLAIN_NAME,
  REFRESH_TOKEN_TYPE,
  REVOCATION_LIST_TYPE,
  SESSION_HINT_COOKIE_NAME,
} from "./names.js";
export type { AccessTokenClaims, PublicUser, SessionSummary, TokenResponse } from "./types.js";
